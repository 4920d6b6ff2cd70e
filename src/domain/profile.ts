import { AppError } from "../errors";
import { uniqueViolation } from "../storage/db";
import { findUserCached, updateProfile as writeProfile, type ProfilePatch, type User } from "../storage/users";
import type { Deps } from "./deps";

export type { ProfilePatch };

/** The user's own profile. Only shown, so the hot-path cache may answer (src/storage/hot-cache.ts). */
export async function getProfile(deps: Deps, userId: string): Promise<User> {
  const user = await findUserCached(deps.config, deps.db, userId);
  if (!user || !user.isActive) throw new AppError("invalid_access_token");
  return user;
}

/** Changes the given fields; a username held by another account, in any case or form, is 409 `username_taken`. */
export async function updateProfile(deps: Deps, userId: string, patch: ProfilePatch, now: number): Promise<User> {
  try {
    const user = await writeProfile(deps.db, userId, patch, new Date(now));
    if (!user) throw new AppError("invalid_access_token");
    return user;
  } catch (err) {
    if (uniqueViolation(err) === "username_key") throw new AppError("username_taken");
    throw err;
  }
}
