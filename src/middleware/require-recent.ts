import { createMiddleware } from "hono/factory";
import { isRecentAuth } from "../domain/auth-methods";
import { AppError } from "../errors";
import type { AppEnv } from "../http/app-env";
import { attachDoc } from "../http/openapi-meta";

/**
 * After requireAuth. A sensitive change needs the user to have proved who they are within
 * REAUTH_MAX_AGE_SECONDS (the token's `auth_time`), not just to hold a token: a stolen access token
 * or an unlocked device alone cannot change the password or the second factors. A token with no
 * `auth_time` (issued before step-up) is never recent. POST /auth/reauthenticate makes it recent.
 */
export const requireRecentAuth = attachDoc(
  createMiddleware<AppEnv>(async (c, next) => {
    const maxAge = c.var.deps.config.reauthMaxAge;
    if (!isRecentAuth(c.var.auth.auth_time, Math.floor(Date.now() / 1000), maxAge)) {
      throw new AppError("reauthentication_required");
    }
    await next();
  }),
  {
    errors: ["reauthentication_required"],
    description:
      "Needs a recent sign-in: the access token's `auth_time` within REAUTH_MAX_AGE_SECONDS (default 600); " +
      "otherwise 403 `reauthentication_required` until `POST /auth/reauthenticate`.",
  },
);
