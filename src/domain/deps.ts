import type { Config } from "../config";
import type { Mailer } from "../delivery/mailer";
import type { UserGuard } from "../durable/user-guard";
import type { Db } from "../storage/db";

/** What domain code is handed: no Hono, no env globals; `now` comes with each call. */
export type Deps = {
  config: Config;
  db: Db;
  kv: KVNamespace;
  guards: DurableObjectNamespace<UserGuard>;
  mailer: Mailer;
  /** Runs work after the response (ctx.waitUntil), for writes nobody waits on. */
  defer: (work: Promise<unknown>) => void;
};

export type RequestMeta = { ip: string | null; userAgent: string | null };

export function userGuard(deps: Deps, userId: string) {
  return deps.guards.get(deps.guards.idFromName(`user:${userId}`));
}

export function emailGuard(deps: Deps, email: string) {
  return deps.guards.get(deps.guards.idFromName(`email:${email}`));
}
