import { AppError } from "../http/errors";
import { findUserByEmail, updatePasswordHash } from "../storage/users";
import { emailGuard, type Deps, type RequestMeta } from "./deps";
import { COUNTERS, enforceIpLimit } from "./limits";
import { burnPasswordCheck, hashPassword, needsRehash, verifyPassword } from "./passwords";
import { normalizeEmail } from "./registration";
import { signIn, type Device } from "./session-tokens";

export async function loginWithPassword(
  deps: Deps,
  input: { email: string; password: string; device: Device },
  meta: RequestMeta,
  now: number,
) {
  const email = normalizeEmail(input.email);
  const { config } = deps;
  await enforceIpLimit(deps, meta.ip, COUNTERS.login, config.login.ipLimit, now);
  // The per-account throttle lives in the address's Durable Object, known or not (no enumeration).
  const guard = emailGuard(deps, email);
  const [slot, user] = await Promise.all([
    guard.beginLogin({
      now,
      delayAfter: config.login.delayAfter,
      lockAfter: config.login.lockAfter,
      lockMs: config.login.lockSeconds * 1000,
    }),
    findUserByEmail(deps.db, email),
  ]);
  const failed = (reason: string) =>
    deps.audit({ action: reason === "throttled" ? "login.throttled" : "login.failed", subjectId: user?.id ?? null, details: { method: "password", email, reason } });
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
  await guard.loginSucceeded();
  // Only after a correct password, so these answers reveal nothing to someone guessing.
  if (!user.isEmailVerified) {
    failed("email_not_verified");
    throw new AppError("email_not_verified");
  }
  if (!user.isActive) throw new AppError("account_disabled");
  if (needsRehash(user.passwordHash)) {
    deps.defer(hashPassword(input.password).then((h) => updatePasswordHash(deps.db, user.id, h, new Date(now))));
  }
  return signIn(deps, user, input.device, meta, now, "password");
}
