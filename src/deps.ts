import { createMiddleware } from "hono/factory";
import { loadConfig, type Config } from "./config";
import { mailerFor } from "./delivery/mailer";
import { smsSenderFor } from "./delivery/sms";
import { auditRecord, writeAudit } from "./domain/audit";
import { secondFactorsOf } from "./domain/second-factors";
import type { Deps } from "./domain/deps";
import { subjectsOf } from "./durable/subjects";
import type { AppEnv } from "./http/app-env";
import { BOOKMARK_HEADER, d1Start, validBookmark } from "./http/d1-session";
import { setFinalHeaders } from "./http/response-headers";
import { requestMeta } from "./middleware/require-auth";
import { commonPasswordsOf } from "./storage/common-passwords";
import { database, sessionDatabase, type Db } from "./storage/db";
import { linksOf } from "./storage/links";
import { revocationsOf } from "./storage/revocations";

// The wiring: the domain's dependencies built from the Worker's bindings. Nothing else hands a
// binding to the domain.

export type StoreBindings = Pick<Env, "DB" | "KV" | "SUBJECTS" | "ASSETS">;

export type Stores = Pick<Deps, "db" | "subjects" | "links" | "revocations" | "secondFactors" | "commonPasswords">;

const built = new WeakMap<Config, WeakMap<StoreBindings, Stores>>();

/**
 * D1 through drizzle, and the domain's interfaces over KV and the SubjectStore namespace; built
 * once per configuration and bindings object (the runtime hands every request the same `env`), so
 * the hot path allocates none of it.
 */
export function storesOf(config: Config, bindings: StoreBindings): Stores {
  let byBindings = built.get(config);
  if (!byBindings) built.set(config, (byBindings = new WeakMap()));
  let stores = byBindings.get(bindings);
  if (!stores) {
    const db = database(bindings.DB);
    stores = {
      db,
      secondFactors: secondFactorsOf(db),
      subjects: subjectsOf(bindings.SUBJECTS),
      links: linksOf(bindings.KV),
      revocations: revocationsOf(config, bindings.KV),
      commonPasswords: commonPasswordsOf(bindings.ASSETS),
    };
    byBindings.set(bindings, stores);
  }
  return stores;
}

/**
 * Builds the domain's dependencies from the bindings once per request (config and keys are cached).
 * D1 is one Sessions API session per request (src/http/d1-session.ts says where it starts); its
 * drizzle handle is made on first use, so an answer from the isolate's cache builds none. Every
 * answer that touched D1 carries the session's latest bookmark for the client to send back.
 */
export const withDeps = createMiddleware<AppEnv>(async (c, next) => {
  const config = loadConfig(c.env);
  const shared = storesOf(config, c.env);
  const sent = c.req.header(BOOKMARK_HEADER);
  const session = c.env.DB.withSession(d1Start(c.req.method, c.req.path, sent));
  let db: Db | undefined;
  const requestDb = () => (db ??= sessionDatabase(session));
  // Held until the handler has answered; anything deferred later starts at once.
  let deferred: Array<() => Promise<unknown>> | null = [];
  const start = (work: () => Promise<unknown>) =>
    c.executionCtx.waitUntil(Promise.resolve().then(work).catch((err) => console.error("deferred work failed", err)));
  const defer: Deps["defer"] = (work) => (deferred ? void deferred.push(work) : start(work));
  const meta = requestMeta(c);
  const context = { ...meta, requestId: c.get("requestId") ?? null };
  c.set("deps", {
    config,
    subjects: shared.subjects,
    links: shared.links,
    revocations: shared.revocations,
    commonPasswords: shared.commonPasswords,
    secondFactors: { methodsFor: (user) => secondFactorsOf(requestDb()).methodsFor(user) },
    get db() {
      return requestDb();
    },
    mailer: mailerFor(config),
    sms: smsSenderFor(config),
    defer,
    audit: (event) => {
      const at = Date.now();
      defer(() => writeAudit(requestDb(), event, context, at));
    },
    auditRecord: (event) => auditRecord(event, context, Date.now()),
  });
  try {
    await next();
    const bookmark = session.getBookmark() ?? validBookmark(sent);
    if (bookmark) setFinalHeaders(c, (headers) => headers.set(BOOKMARK_HEADER, bookmark));
  } finally {
    const held = deferred;
    deferred = null;
    for (const work of held) start(work);
  }
});
