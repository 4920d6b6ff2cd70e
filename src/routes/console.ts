import { Hono } from "hono";
import type { AppEnv } from "../http/app-env";

/**
 * The web console's pages (console/src/main.ts routes the same paths in the browser). Each is the
 * console's one index.html, built into public/console/; any other path keeps its own answer (a file,
 * or the API's problem+json 404), so a mistyped API path never turns into a page.
 */
export const CONSOLE_PATHS = [
  "/",
  "/signup",
  "/login",
  "/verify-email",
  "/forgot-password",
  "/reset-password",
  "/auth/callback",
  "/mfa",
  "/account",
  "/kyc",
  "/provider",
  "/admin/users",
  "/admin/kyc",
  "/admin/kyc/:id",
  "/admin/audit",
] as const;

const INDEX = "/console/";

export const consoleRoutes = new Hono<AppEnv>({ strict: false });
for (const path of CONSOLE_PATHS) {
  consoleRoutes.on(["GET", "HEAD"], path, async (c) => {
    const index = await c.env.ASSETS.fetch(new Request(new URL(INDEX, c.req.url), { method: c.req.method }));
    // Not built (a Worker deployed without the console): fall through to the 404.
    if (!index.ok) return c.notFound();
    return new Response(index.body, { status: 200, headers: { "Content-Type": "text/html; charset=utf-8" } });
  });
}
