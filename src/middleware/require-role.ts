import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { signedInUser, type User } from "../domain/access";
import { hasSecondFactor } from "../domain/second-factors";
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
 * effect at once rather than when the access token expires. A role in MFA_REQUIRED_ROLES is used
 * only once its holder has a second factor (the enrolment routes need no role, so stay open).
 */
export function requireRole(...roles: Role[]) {
  return attachDoc(
    createMiddleware<AppEnv>(async (c, next) => {
      const user = await currentUser(c);
      if (!roles.includes(user.role)) throw new AppError("forbidden");
      const { deps } = c.var;
      if (deps.config.mfaRequiredRoles.includes(user.role) && !(await hasSecondFactor(deps, user.id))) {
        throw new AppError("mfa_enrollment_required");
      }
      await next();
    }),
    { errors: ["forbidden", "mfa_enrollment_required"], description: `Role: ${roles.join(" or ")}.` },
  );
}
