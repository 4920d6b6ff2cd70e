import { createMiddleware } from "hono/factory";
import { loadConfig } from "../config";
import { mailerFor } from "../delivery/mailer";
import { smsSenderFor } from "../delivery/sms";
import { writeAudit } from "../domain/audit";
import type { Deps } from "../domain/deps";
import { NO_SECOND_FACTORS } from "../domain/sign-in";
import { database } from "../storage/db";
import type { AppEnv } from "../http/app-env";
import { requestMeta } from "./require-auth";

/** Builds the domain's dependencies from the bindings once per request (config and keys are cached). */
export const withDeps = createMiddleware<AppEnv>(async (c, next) => {
  const config = loadConfig(c.env);
  const db = database(c.env.DB);
  // Held until the handler has answered; anything deferred later starts at once.
  let deferred: Array<() => Promise<unknown>> | null = [];
  const start = (work: () => Promise<unknown>) =>
    c.executionCtx.waitUntil(Promise.resolve().then(work).catch((err) => console.error("deferred work failed", err)));
  const defer: Deps["defer"] = (work) => (deferred ? void deferred.push(work) : start(work));
  const meta = requestMeta(c);
  const context = { ...meta, requestId: c.get("requestId") ?? null };
  c.set("deps", {
    config,
    db,
    kv: c.env.KV,
    subjects: c.env.SUBJECTS,
    mailer: mailerFor(config),
    sms: smsSenderFor(config),
    secondFactors: NO_SECOND_FACTORS,
    defer,
    audit: (event) => {
      const at = Date.now();
      defer(() => writeAudit(db, event, context, at));
    },
  });
  try {
    await next();
  } finally {
    const held = deferred;
    deferred = null;
    for (const work of held) start(work);
  }
});
