import { Hono } from "hono";
import * as z from "zod";
import { publicJwks } from "../domain/tokens";
import type { AppEnv } from "../http/app-env";
import { describeRoute } from "../http/openapi-meta";
import { renderReferencePage } from "../http/reference-page";

const TAGS = ["Service"];

/**
 * Routes at the root: health, keys, and the API's own description. `openapi` is built by app.ts on
 * the first request for it, once every route group is.
 */
export function serviceRoutes(openapi: (serverUrl: string) => Promise<unknown>) {
  let reference: string | undefined;
  return new Hono<AppEnv>()
    .get(
      "/health",
      describeRoute({
        tags: TAGS,
        summary: "Liveness",
        responses: { 200: { description: "OK", schema: z.object({ status: z.literal("ok") }) } },
      }),
      (c) => c.json({ status: "ok" as const }, 200),
    )
    .get(
      "/.well-known/jwks.json",
      describeRoute({
        tags: TAGS,
        summary: "Public keys that verify access tokens (current and previous)",
        responses: { 200: { description: "JWK Set", schema: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }) } },
      }),
      async (c) => {
        c.header("Cache-Control", "public, max-age=300");
        return c.json(await publicJwks(c.var.deps.config), 200);
      },
    )
    .get("/openapi.json", async (c) => c.json((await openapi(c.var.deps.config.publicBaseUrl)) as object, 200))
    .get("/docs", async (c) => {
      reference ??= renderReferencePage((await openapi(c.var.deps.config.publicBaseUrl)) as Record<string, unknown>);
      return c.html(reference, 200);
    });
}
