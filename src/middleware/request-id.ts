import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../http/app-env";
import { setFinalHeaders } from "../http/response-headers";

/** A request id for logs and audit: Cloudflare's ray id when present, else a fresh UUID. */
export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  const id = c.req.header("cf-ray") ?? crypto.randomUUID();
  c.set("requestId", id);
  await next();
  setFinalHeaders(c, (headers) => headers.set("X-Request-Id", id));
});
