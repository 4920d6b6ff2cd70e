import { createMiddleware } from "hono/factory";
import { verifyAccessToken } from "../domain/tokens";
import type { AppEnv } from "../http/app-env";
import { AppError } from "../errors";
import { attachDoc } from "../http/openapi-meta";

/**
 * Bearer access token: signature, algorithm, iss, aud, typ and expiry, then the session's entry in
 * the revocation list, so logout and logout-all end access tokens before they expire. The list is
 * read through the isolate's hot-path cache (src/storage/hot-cache.ts).
 */
export const requireAuth = attachDoc(
  createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header("Authorization") ?? "";
    // Another scheme (Basic, a cookie-less browser) is no Bearer credential at all.
    if (!/^bearer(\s|$)/i.test(header)) throw new AppError("invalid_access_token", { noCredentials: true });
    const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header);
    if (!match) throw new AppError("invalid_access_token");
    const { config, revocations } = c.var.deps;
    const claims = await verifyAccessToken(config, match[1]!);
    if (!claims) throw new AppError("invalid_access_token");
    if (!(await revocations.isOpen(claims.sid))) throw new AppError("invalid_access_token");
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
