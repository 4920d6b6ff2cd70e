import type { LoginAttemptInput } from "../durable/login-throttle";
import { AppError } from "../errors";
import { findUserForSignIn, updatePasswordHash, type User } from "../storage/users";
import { emailSubject, type Deps, type RequestMeta } from "./deps";
import { DEVICE_LOGIN_BUDGET, deviceBudget, deviceTokenUser, issueDeviceToken } from "./device-tokens";
import { COUNTERS, enforceIpLimit } from "./limits";
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
  // Unknown account: the same hashing work as a wrong password, and below the same answer.
  const passed = user?.passwordHash
    ? await verifyPassword(user.passwordHash, input.password)
    : await burnPasswordCheck(input.password).then(() => false);
  // The per-account throttle lives in the address's Durable Object, known or not (no enumeration;
  // the same object, empty once its state lapses, answers for both). One call after the hash counts
  // the attempt and, when it is allowed and right, clears the budget: a refused attempt is refused
  // whatever the password, so a burst gets no more answers than the budget allows.
  const slot = await emailSubject(deps, email).settleLogin({ ...limits, passed });
  if (!slot.ok) {
    failed("throttled");
    throw new AppError("too_many_attempts", { retryAfter: slot.retryAfterMs / 1000 });
  }
  if (!found || !user?.passwordHash) {
    failed("unknown_account");
    throw new AppError("invalid_credentials");
  }
  if (!passed) {
    failed("wrong_password");
    throw new AppError("invalid_credentials");
  }
  // Only after a correct password, so these answers reveal nothing to someone guessing.
  if (!user.isEmailVerified) {
    failed("email_not_verified");
    throw new AppError("email_not_verified");
  }
  // The pipeline refuses a disabled account (audited), also only after the right password. It still
  // asks for the second factors, which came with the row in the same D1 read.
  const attempt = { method: "password", device: input.device, meta, now } as const;
  const result = await completeSignIn(withFactorsRead(deps, user, found), user, attempt);
  if (needsRehash(user.passwordHash)) {
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
