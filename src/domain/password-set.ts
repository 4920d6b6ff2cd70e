import { AppError } from "../errors";
import { setFirstPasswordHash } from "../storage/contact-changes";
import { findUserById } from "../storage/users";
import type { Deps } from "./deps";
import { assertAcceptablePassword } from "./password-policy";
import { hashPassword } from "./passwords";

/**
 * A first password for an account that has none (phone, Google and passkey sign-ups), under the
 * password policy. 409 `password_exists` when one is set: changing it asks for the current one
 * (POST /auth/password/change). No session ends: this adds a way in and takes none away, and the
 * route already needs a recent sign-in. Two racing requests set exactly one password.
 */
export async function setPassword(deps: Deps, auth: { userId: string; sessionId: string }, newPassword: string, now: number): Promise<void> {
  const user = await findUserById(deps.db, auth.userId);
  if (!user || !user.isActive) throw new AppError("invalid_access_token");
  if (user.passwordHash) throw new AppError("password_exists");
  await assertAcceptablePassword(deps, newPassword, { email: user.email ?? user.unverifiedEmail, field: "new_password" });
  if (!(await setFirstPasswordHash(deps.db, user.id, await hashPassword(newPassword), new Date(now)))) {
    throw new AppError("password_exists");
  }
  deps.audit({ action: "password.set", actorId: user.id, details: { session_id: auth.sessionId } });
}
