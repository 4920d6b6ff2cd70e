import { mfaAuthRoutes, mfaUserRoutes } from "./routes/mfa";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { loadConfig } from "./config";
import { withDeps } from "./deps";
import { AppError } from "./errors";
import type { AppEnv } from "./http/app-env";
import { BOOKMARK_HEADER } from "./http/d1-session";
import { buildOpenApi } from "./http/openapi";
import { problemResponse } from "./http/problem";
import { setFinalHeaders } from "./http/response-headers";
import { htmlSecurityHeaders } from "./middleware/html-security-headers";
import { requestId } from "./middleware/request-id";
import { accountDeletionRoutes, adminDeletionRoutes } from "./routes/account-deletion";
import { accountExportRoutes } from "./routes/account-export";
import { accountChangeRoutes } from "./routes/account-changes";
import { adminRoutes } from "./routes/admin";
import { authRoutes } from "./routes/auth";
import { consoleRoutes } from "./routes/console";
import { emailCodeRoutes } from "./routes/email-code";
import { adminKycRoutes } from "./routes/admin-kyc";
import { googleRoutes } from "./routes/google";
import { identityRoutes } from "./routes/identities";
import { kycRoutes, providerRoutes } from "./routes/kyc";
import { phoneRoutes } from "./routes/phone";
import { passkeyAuthRoutes, passkeyUserRoutes } from "./routes/passkeys";
import { reauthRoutes } from "./routes/reauthenticate";
import { passwordRoutes } from "./routes/password";
import { serviceRoutes } from "./routes/service";
import { sessionRoutes } from "./routes/sessions";
import { userRoutes } from "./routes/users";

export const MAX_JSON_BODY = 1024 * 1024;

// strict: false makes `/api/v1/auth/login/` the same route as `/api/v1/auth/login` (Django-style clients).
const app = new Hono<AppEnv>({ strict: false });

app.use("*", requestId);
app.use("*", async (c, next) => {
  await next();
  setFinalHeaders(c, (headers) => {
    headers.set("X-Content-Type-Options", "nosniff");
    // Token and account answers must never be cached (RFC 6749 §5.1); routes that may be cached say so.
    if (!headers.has("Cache-Control")) headers.set("Cache-Control", "no-store");
  });
});
app.use("*", htmlSecurityHeaders);
// Only browsers send Origin, and only their requests need CORS headers. Hono's cors middleware
// copies the Response up to three times per request, so requests without Origin (apps, servers)
// skip it and only get the `Vary: Origin` it would have added.
app.use("/api/*", async (c, next) => {
  if (c.req.header("Origin") === undefined) {
    await next();
    setFinalHeaders(c, (headers) => headers.append("Vary", "Origin"));
    return;
  }
  return cors({
    origin: loadConfig(c.env).corsOrigins,
    allowMethods: ["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
    allowHeaders: ["Authorization", "Content-Type", BOOKMARK_HEADER],
    exposeHeaders: ["Retry-After", "X-Request-Id", "WWW-Authenticate", BOOKMARK_HEADER],
    maxAge: 600,
  })(c, next);
});
const jsonBodyLimit = bodyLimit({
  maxSize: MAX_JSON_BODY,
  onError: () => {
    throw new AppError("payload_too_large");
  },
});
// KYC uploads have their own, larger limit (src/routes/kyc.ts); every other body stops at 1 MiB.
const KYC_UPLOAD_PATH = /^\/api\/v1\/kyc\/submit\/?$/;
app.use("*", (c, next) => (KYC_UPLOAD_PATH.test(c.req.path) ? next() : jsonBodyLimit(c, next)));
app.use("*", withDeps);

const api = new Hono<AppEnv>({ strict: false })
  .route("/auth", authRoutes)
  .route("/auth", sessionRoutes)
  .route("/auth", googleRoutes)
  .route("/auth", phoneRoutes)
  .route("/auth", emailCodeRoutes)
  .route("/auth", passwordRoutes)
  .route("/auth", mfaAuthRoutes)
  .route("/auth", passkeyAuthRoutes)
  .route("/auth", reauthRoutes)
  .route("/users", userRoutes)
  .route("/users", mfaUserRoutes)
  .route("/users", passkeyUserRoutes)
  .route("/users", accountExportRoutes)
  .route("/users", identityRoutes)
  .route("/users", accountChangeRoutes)
  .route("/kyc", kycRoutes)
  .route("/admin/kyc", adminKycRoutes)
  .route("/provider", providerRoutes)
  .route("/admin", adminRoutes)
  .route("/users", accountDeletionRoutes)
  .route("/admin", adminDeletionRoutes);

app.route("/api/v1", api);

let openapi: unknown;
app.route(
  "/",
  serviceRoutes((serverUrl) => (openapi ??= buildOpenApi(app, { title: "edge-auth", version: "1.0.0", serverUrl }))),
);

// The console's pages, one index.html (public/console/, built from console/ by `npm run build:console`).
app.route("/", consoleRoutes);

// Anything else may be a static file (public/, wrangler.toml [assets]); served through the Worker so
// the headers above apply to it. The API's own paths never fall through to files.
app.on(["GET", "HEAD"], "*", async (c, next) => {
  if (c.req.path.startsWith("/api/")) return next();
  const file = await c.env.ASSETS.fetch(c.req.raw);
  if (file.status === 404) return next();
  return file;
});

app.notFound(() => {
  throw new AppError("not_found");
});
app.onError((err, c) => problemResponse(err, c));

export default app;
