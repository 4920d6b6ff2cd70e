import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { API_GROUPS, apiGeneration, isApiGroupLoaded, loadApiGroup, mountLoaded } from "./api";
import { loadConfig } from "./config";
import { withDeps } from "./deps";
import { AppError } from "./errors";
import type { AppEnv } from "./http/app-env";
import { BOOKMARK_HEADER } from "./http/d1-session";
import { problemResponse } from "./http/problem";
import { setFinalHeaders } from "./http/response-headers";
import { htmlSecurityHeaders } from "./middleware/html-security-headers";
import { requestId } from "./middleware/request-id";
import { consoleRoutes } from "./routes/console";
import { serviceRoutes } from "./routes/service";

export const MAX_JSON_BODY = 1024 * 1024;

const jsonBodyLimit = bodyLimit({
  maxSize: MAX_JSON_BODY,
  onError: () => {
    throw new AppError("payload_too_large");
  },
});
// KYC uploads have their own, larger limit (src/routes/kyc.ts); every other body stops at 1 MiB.
const KYC_UPLOAD_PATH = /^\/api\/v1\/kyc\/submit\/?$/;

let openapi: Promise<unknown> | undefined;

/** The OpenAPI document, built once from every route: all groups first, then the generator. */
function openApiDocument(serverUrl: string): Promise<unknown> {
  openapi ??= (async () => {
    await Promise.all(API_GROUPS.map(loadApiGroup));
    const { buildOpenApi } = await import("./http/openapi");
    return buildOpenApi(rootApp(), { title: "edge-auth", version: "1.0.0", serverUrl });
  })().catch((err: unknown) => {
    openapi = undefined;
    throw err;
  });
  return openapi;
}

// Built with the first root app, not at startup, and kept: it caches the reference page.
let service: Hono<AppEnv> | undefined;

/**
 * The root app with the API groups built so far (src/api.ts). A request under a group not built yet
 * meets that group's loader first, before any other middleware: it builds the group and hands the
 * request, untouched, to the app that has it, so every request runs the middleware below once and
 * one context serves it from request id to final headers, exactly as with every group built.
 */
function buildApp(): Hono<AppEnv> {
  // strict: false makes `/api/v1/auth/login/` the same route as `/api/v1/auth/login` (Django-style clients).
  const app = new Hono<AppEnv>({ strict: false });

  for (const group of API_GROUPS) {
    if (isApiGroupLoaded(group)) continue;
    app.use(`/api/v1/${group}/*`, async (c) => {
      await loadApiGroup(group);
      return rootApp().fetch(c.req.raw, c.env, executionCtxOf(c));
    });
  }

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
  app.use("*", (c, next) => (KYC_UPLOAD_PATH.test(c.req.path) ? next() : jsonBodyLimit(c, next)));
  app.use("*", withDeps);

  app.route("/api/v1", mountLoaded(new Hono<AppEnv>({ strict: false })));

  app.route("/", (service ??= serviceRoutes(openApiDocument)));

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

  return app;
}

let root: { generation: number; app: Hono<AppEnv> } | undefined;

function rootApp(): Hono<AppEnv> {
  if (root?.generation !== apiGeneration()) root = { generation: apiGeneration(), app: buildApp() };
  return root.app;
}

function executionCtxOf(c: Context): Context["executionCtx"] | undefined {
  try {
    return c.executionCtx;
  } catch {
    return undefined; // app.fetch called without one (tests)
  }
}

/** The Worker's fetch: always through the newest root app. */
export default {
  fetch: (...args: Parameters<Hono<AppEnv>["fetch"]>) => rootApp().fetch(...args),
};
