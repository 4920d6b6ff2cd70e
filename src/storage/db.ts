import { createTableRelationsHelpers, extractTablesRelationalConfig, fillPlaceholders } from "drizzle-orm";
import { drizzle, DrizzleD1Database, SQLiteD1Session, type AnyD1Database } from "drizzle-orm/d1";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import * as schema from "./schema";

export type Db = DrizzleD1Database<typeof schema>;

const cache = new WeakMap<D1Database, Db>();

/** drizzle over the binding itself: every query goes to the primary (Durable Objects, cron, tests). */
export function database(d1: D1Database): Db {
  let db = cache.get(d1);
  if (!db) {
    db = drizzle(d1, { schema });
    cache.set(d1, db);
  }
  return db;
}

// Built once per isolate: the relational config is what drizzle() spends its time on, and a session
// database is made per request.
let relational: { fullSchema: typeof schema; schema: unknown; tableNamesMap: Record<string, string> } | undefined;
const dialect = new SQLiteAsyncDialect();

/**
 * drizzle over one request's D1 session (read replicas, src/http/d1-session.ts). drizzle only calls
 * `prepare` and `batch` on its client, which a `D1DatabaseSession` has, but its type asks for a whole
 * `D1Database` (exec, dump, withSession): hence the cast, and the construction by hand so that the
 * relational config is not extracted again on every request.
 */
export function sessionDatabase(session: D1DatabaseSession): Db {
  if (!relational) {
    const tables = extractTablesRelationalConfig(schema, createTableRelationsHelpers);
    relational = { fullSchema: schema, schema: tables.tables, tableNamesMap: tables.tableNamesMap };
  }
  const client = session as unknown as AnyD1Database;
  const rel = relational as ConstructorParameters<typeof SQLiteD1Session>[2];
  const d1Session = new SQLiteD1Session(client, dialect, rel, {}) as unknown as ConstructorParameters<typeof DrizzleD1Database>[2];
  const db = new DrizzleD1Database("async", dialect, d1Session, rel) as Db & { $client: AnyD1Database };
  db.$client = client;
  return db;
}

/**
 * drizzle prepared queries built once per isolate and re-pointed at each handle's D1 client (a
 * request's session, or the binding): building the SQL costs a few hundred microseconds, a D1
 * statement next to nothing. A drizzle prepared query keeps its D1 statement in `stmt`.
 */
export function reusable<Q extends Record<string, object>>(build: (db: Db) => Q): (db: Db) => Q {
  let template: Q | undefined;
  const copies = new WeakMap<Db, Q>();
  return (db) => {
    let queries = copies.get(db);
    if (!queries) {
      template ??= build(db);
      const client = (db as Db & { $client: AnyD1Database }).$client;
      queries = {} as Q;
      for (const [name, query] of Object.entries(template)) {
        const sql = (query as { query: { sql: string } }).query.sql;
        const copy = Object.assign(Object.create(Object.getPrototypeOf(query) as object) as object, query, { stmt: client.prepare(sql) });
        (queries as Record<string, object>)[name] = copy;
      }
      copies.set(db, queries);
    }
    return queries;
  };
}

/**
 * The D1 statement of a `reusable` query with its placeholders filled (encoded by their columns as
 * drizzle's own run does), for a batch of them in one round trip: drizzle's `batch` takes only
 * query builders, which it would build into SQL again.
 */
export function boundStatement(query: object, values: Record<string, unknown>): D1PreparedStatement {
  const { stmt, query: built } = query as { stmt: D1PreparedStatement; query: { params: unknown[] } };
  return stmt.bind(...fillPlaceholders(built.params, values));
}

/** drizzle wraps D1 errors; the constraint name is in the cause. */
export function uniqueViolation(err: unknown): string | null {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const match = /UNIQUE constraint failed: (\w+)\.(\w+)/.exec(e.message);
    if (match) return match[2]!;
  }
  return null;
}
