import type { LoginAttemptInput } from "../durable/login-throttle";
import { AppError } from "../errors";
import { findUserForSignIn, updatePasswordHash, type User } from "../storage/users";
import { emailSubject, userSubject, type Deps, type Limits, type RequestMeta } from "./deps";
import { DEVICE_LOGIN_BUDGET, deviceBudget, deviceTokenUser, issueDeviceToken } from "./device-tokens";
import { COUNTERS, enforceIpLimit, loginThrottled } from "./limits";
import { burnPasswordCheck, hashPassword, needsRehash, verifyPassword } from "./passwords";
import { withFactorsRead } from "./second-factors";
import { normalizeEmail } from "./registration";
import type { Device } from "./session-tokens";
import { completeSignIn } from "./sign-in";

export async function loginWithPassword(
  deps: Deps,
  input: { email: string; password: string; device: Device; deviceToken?: string | null },
  meta: RequestMeta,
  now: number,
) {
  const email = normalizeEmail(input.email);
  const { config } = deps;
  // The per-IP count and the user's row (with their second factors) at once: one round trip's wait.
  const [, found] = await Promise.all([
    enforceIpLimit(deps, meta.ip, COUNTERS.login, config.login.ipLimit, now),
    findUserForSignIn(deps.db, email),
  ]);
  const user = found?.user;
  const vouched = input.deviceToken ? await deviceTokenUser(config, input.deviceToken, input.device.deviceId, now) : null;
  const { limits, budget } = attemptLimits(deps, user, vouched, input.device, now);
  const failed = (reason: string) =>
    deps.audit({
      action: reason === "throttled" ? "login.throttled" : "login.failed",
      subjectId: user?.id ?? null,
      details: { method: "password", email, reason, ...(budget ? { device_token: true } : {}) },
    });
  // An account's login throttle lives in the user's object; the address's object answers for an
  // address without an account or without a password (no enumeration: the same method on an object
  // of the same class, which holds nothing of it before the first attempt). One call after the hash
  // counts the attempt and, when it is allowed and right, clears the budget: a refused attempt is
  // refused whatever the password, so a burst gets no more answers than the budget allows.
  const settle = async (account: Limits, passed: boolean) => {
    const slot = await account.settleLogin({ ...limits, passed });
    if (slot.ok) return;
    failed("throttled");
    throw loginThrottled(slot.retryAfterMs);
  };
  const hash = user?.passwordHash;
  // Unknown account: the same hashing work as a wrong password, and below the same answer.
  const passed = hash ? await verifyPassword(hash, input.password) : await burnPasswordCheck(input.password).then(() => false);
  if (!found || !user || !hash) {
    await settle(emailSubject(deps, email), false);
    failed("unknown_account");
    throw new AppError("invalid_credentials");
  }
  // A right password for an account that may sign in is settled by the user's object in the call
  // that opens the session or the second-step challenge: login's two calls to objects are the client
  // address's limiter and the account's.
  const opens = passed && user.isEmailVerified && user.isActive;
  if (!opens) {
    await settle(userSubject(deps, user.id), passed);
    if (!passed) {
      failed("wrong_password");
      throw new AppError("invalid_credentials");
    }
    // Only after a correct password, so this answer reveals nothing to someone guessing.
    if (!user.isEmailVerified) {
      failed("email_not_verified");
      throw new AppError("email_not_verified");
    }
  }
  // The pipeline refuses a disabled account (audited), also only after the right password. It still
  // asks for the second factors, which came with the row in the same D1 read.
  const attempt = { method: "password", device: input.device, meta, now, ...(opens ? { login: limits } : {}) } as const;
  const result = await completeSignIn(withFactorsRead(deps, user, found), user, attempt).catch((err: unknown) => {
    if (err instanceof AppError && err.code === "too_many_attempts") failed("throttled");
    throw err;
  });
  if (needsRehash(hash)) {
    deps.defer(() => hashPassword(input.password).then((h) => updatePasswordHash(deps.db, user.id, h, new Date(now))));
  }
  // The device token vouches for a device that finished signing in, as it did before second factors.
  if (result.kind !== "session") return result;
  return { ...result, device_token: await issueDeviceToken(config, user.id, input.device.deviceId, now) };
}

/**
 * The budget the attempt is counted on: the shared one, or the device's own when a device token
 * vouches for this very account (the account must be known first, so one's own token buys no tries
 * on another's). A recognised device clears only its own budget on success: a lock others caused
 * stays on for them; a shared success clears every budget.
 */
function attemptLimits(
  deps: Deps,
  user: User | undefined,
  vouchedUserId: string | null,
  device: Device,
  now: number,
): { limits: LoginAttemptInput; budget: string | undefined } {
  const { login } = deps.config;
  const shared = { now, delayAfter: login.delayAfter, lockAfter: login.lockAfter, lockMs: login.lockSeconds * 1000 };
  if (!user || user.id !== vouchedUserId) return { limits: shared, budget: undefined };
  const budget = deviceBudget(user.id, device.deviceId);
  return { limits: { ...shared, budget, delayAfter: DEVICE_LOGIN_BUDGET, lockAfter: DEVICE_LOGIN_BUDGET }, budget };
}
