import { AppError } from "../errors";
import { findUserById, updatePasswordHash } from "../storage/users";
import { revokedHere, userSubject, type Deps } from "./deps";
import { loginThrottled } from "./limits";
import { assertAcceptablePassword } from "./password-policy";
import { hashPassword, verifyPassword } from "./passwords";

/** Needs the current password; every other session of the user ends, the caller's goes on. */
export async function changePassword(
  deps: Deps,
  auth: { userId: string; sessionId: string },
  input: { currentPassword: string; newPassword: string },
  now: number,
): Promise<void> {
  const { config } = deps;
  const user = await findUserById(deps.db, auth.userId);
  if (!user || !user.isActive) throw new AppError("invalid_access_token");
  const subject = userSubject(deps, user.id);
  // A stolen access token must not become a way to guess the password: same throttle as login.
  const slot = await subject.beginLogin({
    now,
    delayAfter: config.login.delayAfter,
    lockAfter: config.login.lockAfter,
    lockMs: config.login.lockSeconds * 1000,
  });
  if (!slot.ok) throw loginThrottled(slot.retryAfterMs);
  if (!user.passwordHash || !(await verifyPassword(user.passwordHash, input.currentPassword))) {
    deps.audit({ action: "login.failed", subjectId: user.id, details: { method: "password_change", reason: "wrong_password" } });
    throw new AppError("invalid_credentials");
  }
  await subject.loginSucceeded();
  if (input.newPassword === input.currentPassword) {
    throw new AppError("weak_password", {
      detail: "The new password must differ from the current one",
      errors: [{ path: "new_password", message: "The new password must differ from the current one" }],
    });
  }
  await assertAcceptablePassword(deps, input.newPassword, { email: user.email, field: "new_password" });
  await updatePasswordHash(deps.db, user.id, await hashPassword(input.newPassword), new Date(now));
  const { revoked } = revokedHere(deps, await subject.revokeSessions({ userId: user.id, ids: null, now, exceptId: auth.sessionId }));
  deps.audit({ action: "password.changed", actorId: user.id, details: { session_id: auth.sessionId, sessions_revoked: revoked.length } });
}
