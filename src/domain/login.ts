import type { CooldownResult } from "../durable/subject-store";
import { AppError } from "../errors";
import { findUserByEmail, updatePasswordHash, type User } from "../storage/users";
import { emailSubject, type Deps, type Limits, type RequestMeta } from "./deps";
import { DEVICE_LOGIN_BUDGET, deviceBudget, deviceTokenUser, issueDeviceToken } from "./device-tokens";
import { COUNTERS, enforceIpLimit } from "./limits";
import { burnPasswordCheck, hashPassword, needsRehash, verifyPassword } from "./passwords";
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
  await enforceIpLimit(deps, meta.ip, COUNTERS.login, config.login.ipLimit, now);
  // The per-account throttle lives in the address's Durable Object, known or not (no enumeration).
  const subject = emailSubject(deps, email);
  const vouched = input.deviceToken ? await deviceTokenUser(config, input.deviceToken, input.device.deviceId, now) : null;
  const { slot, user, budget } = await reserveAttempt(deps, subject, email, vouched, input.device, now);
  const failed = (reason: string) =>
    deps.audit({
      action: reason === "throttled" ? "login.throttled" : "login.failed",
      subjectId: user?.id ?? null,
      details: { method: "password", email, reason, ...(budget ? { device_token: true } : {}) },
    });
  if (!slot.ok) {
    failed("throttled");
    throw new AppError("too_many_attempts", { retryAfter: slot.retryAfterMs / 1000 });
  }
  if (!user || !user.passwordHash) {
    // Unknown account: the same hashing work and the same answer as a wrong password.
    await burnPasswordCheck(input.password);
    failed("unknown_account");
    throw new AppError("invalid_credentials");
  }
  if (!(await verifyPassword(user.passwordHash, input.password))) {
    failed("wrong_password");
    throw new AppError("invalid_credentials");
  }
  // A recognised device clears only its own budget: a lock others caused stays on for them.
  await subject.loginSucceeded(budget ? { budget } : {});
  // Only after a correct password, so these answers reveal nothing to someone guessing.
  if (!user.isEmailVerified) {
    failed("email_not_verified");
    throw new AppError("email_not_verified");
  }
  // The pipeline refuses a disabled account (audited), also only after the right password.
  const result = await completeSignIn(deps, user, { method: "password", device: input.device, meta, now });
  if (needsRehash(user.passwordHash)) {
    deps.defer(() => hashPassword(input.password).then((h) => updatePasswordHash(deps.db, user.id, h, new Date(now))));
  }
  // The device token vouches for a device that finished signing in, as it did before second factors.
  if (result.kind !== "session") return result;
  return { ...result, device_token: await issueDeviceToken(config, user.id, input.device.deviceId, now) };
}

/**
 * Reserves the attempt on the shared budget, or on the device's own when a device token vouches for
 * this very account: the account must be known first, so one's own token buys no tries on another's.
 */
async function reserveAttempt(
  deps: Deps,
  subject: Limits,
  email: string,
  vouchedUserId: string | null,
  device: Device,
  now: number,
): Promise<{ slot: CooldownResult; user: User | undefined; budget: string | undefined }> {
  const { login } = deps.config;
  const shared = { now, delayAfter: login.delayAfter, lockAfter: login.lockAfter, lockMs: login.lockSeconds * 1000 };
  if (!vouchedUserId) {
    const [slot, user] = await Promise.all([subject.beginLogin(shared), findUserByEmail(deps.db, email)]);
    return { slot, user, budget: undefined };
  }
  const user = await findUserByEmail(deps.db, email);
  if (user?.id !== vouchedUserId) return { slot: await subject.beginLogin(shared), user, budget: undefined };
  const budget = deviceBudget(user.id, device.deviceId);
  const slot = await subject.beginLogin({ ...shared, budget, delayAfter: DEVICE_LOGIN_BUDGET, lockAfter: DEVICE_LOGIN_BUDGET });
  return { slot, user, budget };
}
