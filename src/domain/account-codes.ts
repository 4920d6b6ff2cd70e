import { resendCooldownName } from "../durable/subject-store";
import { AppError } from "../errors";
import type { Limit } from "../config";
import { findUserById, type User } from "../storage/users";
import { failedCheck } from "./code-check";
import { deliverCode } from "./code-delivery";
import { randomDigits } from "./crypto";
import { userSubject, type AddressSubject, type Deps, type RequestMeta } from "./deps";
import { COUNTERS, enforceIpLimit, enforceLimit } from "./limits";
import { codeHmac } from "./registration";

// A code a signed-in user asks for to prove a new address or number (email change, phone add or
// change). It is held by the user's own Durable Object under its purpose, with the address or number
// in its payload, so the confirm needs only the code and a code can never name another target or
// account. The resend cooldown is the account's; the send is counted on the target's own object too,
// in the budget every other code sent to it shares. The store, the cooldowns and the attempt cap are
// the service's one code store (src/durable/code-store.ts).

export type AccountCodeRequest = {
  purpose: string;
  ttlSeconds: number;
  /** What the confirm will apply (the new address or number). */
  payload: object;
  /** The target's own object, whose send budget is shared with the other codes sent to it. */
  target: AddressSubject;
  counter: string;
  perTargetLimit: Limit;
  send: (code: string) => Promise<void>;
};

/** Stores a new code for `user` and sends it; a failed delivery leaves no usable code and spends no budget. Returns the code. */
export async function sendAccountCode(deps: Deps, user: User, request: AccountCodeRequest, now: number): Promise<string> {
  const { purpose, target, counter } = request;
  const subject = userSubject(deps, user.id);
  const cooldownMs = deps.config.resendCooldown * 1000;
  const cooldown = await subject.claimCooldown({ name: resendCooldownName(purpose), now, ms: cooldownMs });
  if (!cooldown.ok) throw new AppError("rate_limited", { retryAfter: cooldown.retryAfterMs / 1000 });
  await enforceLimit(target, counter, request.perTargetLimit, now);

  const code = randomDigits(6);
  const ttlMs = request.ttlSeconds * 1000;
  await subject.putCode({
    purpose,
    codeHmac: await codeHmac(deps, purpose, user.id, code),
    linkHash: null,
    payload: JSON.stringify(request.payload),
    now,
    codeTtlMs: ttlMs,
    linkTtlMs: 0,
    recordTtlMs: Math.max(ttlMs, cooldownMs),
    cooldownMs,
    refuseInsideCooldown: false,
  });
  await deliverCode(subject, { purpose, counter, dropRecord: true }, async () => {
    try {
      await request.send(code);
    } catch (err) {
      await target.undoSend({ purpose, counter, dropRecord: false });
      throw err;
    }
  });
  return code;
}

/** Takes the user's code for `purpose` (once; 5 misses burn it) and returns what it was sent for. */
export async function takeAccountCode<P>(deps: Deps, userId: string, purpose: string, code: string, meta: RequestMeta, now: number): Promise<P> {
  const { config } = deps;
  await enforceIpLimit(deps, meta.ip, COUNTERS.codeVerify, config.limits.codeVerifyIp, now);
  const result = await userSubject(deps, userId).verifyCode({
    purpose,
    codeHmac: await codeHmac(deps, purpose, userId, code),
    now,
    maxAttempts: config.codeMaxAttempts,
  });
  if (!result.ok) throw failedCheck(result, "invalid_code");
  return JSON.parse(result.payload) as P;
}

/** The signed-in user, who must still exist and be active. */
export async function activeUser(deps: Deps, userId: string): Promise<User> {
  const user = await findUserById(deps.db, userId);
  if (!user || !user.isActive) throw new AppError("invalid_access_token");
  return user;
}
