import { createMiddleware } from "hono/factory";
import { loadConfig } from "../config";
import { mailerFor } from "../delivery/mailer";
import { smsSenderFor } from "../delivery/sms";
import { database } from "../storage/db";
import type { AppEnv } from "../http/app-env";

/** Builds the domain's dependencies from the bindings once per request (config and keys are cached). */
export const withDeps = createMiddleware<AppEnv>(async (c, next) => {
  const config = loadConfig(c.env);
  c.set("deps", {
    config,
    db: database(c.env.DB),
    kv: c.env.KV,
    guards: c.env.USER_GUARD,
    mailer: mailerFor(config),
    sms: smsSenderFor(config),
    defer: (work) => c.executionCtx.waitUntil(work.catch((err) => console.error("deferred work failed", err))),
  });
  await next();
});
