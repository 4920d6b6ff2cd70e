import { AppError } from "../errors";
import { findUserById, type User } from "../storage/users";
import type { Deps } from "./deps";
import { verifyAccessToken, type AccessClaims } from "./tokens";

export type { User };

/**
 * The claims of a bearer access token, or null: signature, algorithm, iss, aud, typ and expiry, then
 * the session's entry in the denylist, so logout and logout-all end access tokens before they
 * expire. The denylist is read through the isolate's hot-path cache (Deps.revocations).
 */
export async function authenticate(deps: Deps, token: string): Promise<AccessClaims | null> {
  const claims = await verifyAccessToken(deps.config, token);
  if (!claims) return null;
  return (await deps.revocations.isOpen(claims.sid)) ? claims : null;
}

/**
 * The signed-in user as stored now, never from a cache: role and KYC gates decide on it, so a
 * demotion or deactivation takes effect at once. A user gone or deactivated is an invalid token.
 */
export async function signedInUser(deps: Deps, userId: string): Promise<User> {
  const user = await findUserById(deps.db, userId);
  if (!user || !user.isActive) throw new AppError("invalid_access_token");
  return user;
}
