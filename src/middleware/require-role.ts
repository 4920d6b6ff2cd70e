import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { Role } from "../domain/roles";
import type { AppEnv } from "../http/app-env";
import { AppError } from "../errors";
import { attachDoc } from "../http/openapi-meta";
import { findUserById, type User } from "../storage/users";

/** The signed-in user as stored now (not as the token remembers), loaded once per request. */
export async function currentUser(c: Context<AppEnv>): Promise<User> {
  let user = c.get("user") as User | undefined;
  if (!user) {
    user = await findUserById(c.var.deps.db, c.var.auth.sub);
    if (!user || !user.isActive) throw new AppError("invalid_access_token");
    c.set("user", user);
  }
  return user;
}

/**
 * After requireAuth. Checks the role stored now, not the token's `role` claim, so a demotion takes
 * effect at once rather than when the access token expires.
 */
export function requireRole(...roles: Role[]) {
  return attachDoc(
    createMiddleware<AppEnv>(async (c, next) => {
      const user = await currentUser(c);
      if (!roles.includes(user.role)) throw new AppError("forbidden");
      await next();
    }),
    { errors: ["forbidden"], description: `Role: ${roles.join(" or ")}.` },
  );
}
