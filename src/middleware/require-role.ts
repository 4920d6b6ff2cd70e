import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { signedInUser, type User } from "../domain/access";
import type { Role } from "../domain/roles";
import type { AppEnv } from "../http/app-env";
import { AppError } from "../errors";
import { attachDoc } from "../http/openapi-meta";

/** The signed-in user as stored now (not as the token remembers), loaded once per request. */
export async function currentUser(c: Context<AppEnv>): Promise<User> {
  let user = c.get("user") as User | undefined;
  if (!user) {
    user = await signedInUser(c.var.deps, c.var.auth.sub);
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
