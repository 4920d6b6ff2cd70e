import { createMiddleware } from "hono/factory";
import { authenticate } from "../domain/access";
import type { AppEnv } from "../http/app-env";
import { AppError } from "../errors";
import { attachDoc } from "../http/openapi-meta";

/**
 * Bearer access token, checked by `authenticate` (src/domain/access.ts): signature and claims, then
 * the session's entry in the denylist, so logout and logout-all end access tokens before they expire.
 */
export const requireAuth = attachDoc(
  createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header("Authorization") ?? "";
    // Another scheme (Basic, a cookie-less browser) is no Bearer credential at all.
    if (!/^bearer(\s|$)/i.test(header)) throw new AppError("invalid_access_token", { noCredentials: true });
    const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header);
    if (!match) throw new AppError("invalid_access_token");
    const claims = await authenticate(c.var.deps, match[1]!);
    if (!claims) throw new AppError("invalid_access_token");
    c.set("auth", claims);
    await next();
  }),
  { auth: "bearer", errors: ["invalid_access_token"] },
);

export function requestMeta(c: { req: { header(name: string): string | undefined } }) {
  return {
    ip: c.req.header("CF-Connecting-IP") ?? null,
    userAgent: c.req.header("User-Agent")?.slice(0, 512) ?? null,
  };
}
