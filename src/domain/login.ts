import { AppError } from "../http/errors";
import { findUserByEmail, updatePasswordHash } from "../storage/users";
import type { Deps, RequestMeta } from "./deps";
import { burnPasswordCheck, hashPassword, needsRehash, verifyPassword } from "./passwords";
import { normalizeEmail } from "./registration";
import { signIn, type Device } from "./session-tokens";

export async function loginWithPassword(
  deps: Deps,
  input: { email: string; password: string; device: Device },
  meta: RequestMeta,
  now: number,
) {
  const user = await findUserByEmail(deps.db, normalizeEmail(input.email));
  if (!user || !user.passwordHash) {
    // Unknown account: the same hashing work and the same answer as a wrong password.
    await burnPasswordCheck(input.password);
    throw new AppError("invalid_credentials");
  }
  if (!(await verifyPassword(user.passwordHash, input.password))) throw new AppError("invalid_credentials");
  // Only after a correct password, so these answers reveal nothing to someone guessing.
  if (!user.isEmailVerified) throw new AppError("email_not_verified");
  if (!user.isActive) throw new AppError("account_disabled");
  if (needsRehash(user.passwordHash)) {
    deps.defer(hashPassword(input.password).then((h) => updatePasswordHash(deps.db, user.id, h, new Date(now))));
  }
  return signIn(deps, user, input.device, meta, now);
}
