import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../http/app-env";
import { setFinalHeaders } from "../http/response-headers";

/**
 * What every HTML page of this origin (the API reference now, the console later) is sent with. The
 * console keeps users' tokens here, so a page may run only this origin's own script files: nothing
 * inline, nothing from elsewhere, no plugins, no <base> rewriting, never inside another site's frame
 * (clickjacking), and its URLs (tokens in links) never leave in a Referer.
 */
export const HTML_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": [
    "default-src 'self'",
    "script-src 'self'",
    "connect-src 'self'",
    // blob: for the console's previews of chosen KYC files and the documents an admin reviews.
    "img-src 'self' blob:",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
    "form-action 'self'",
  ].join("; "),
  // For browsers that predate frame-ancestors.
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
};

/** Adds HTML_SECURITY_HEADERS to every HTML response, whichever route or static file made it. */
export const htmlSecurityHeaders = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (!/^text\/html\b/i.test(c.res.headers.get("Content-Type") ?? "")) return;
  setFinalHeaders(c, (headers) => {
    for (const [name, value] of Object.entries(HTML_SECURITY_HEADERS)) headers.set(name, value);
  });
});
