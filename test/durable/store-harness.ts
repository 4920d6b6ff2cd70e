import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { SUBJECT_SCHEMA, type ScheduleCleanup } from "../../src/durable/subject-types";

/** What a store asked its object's alarm for: the times passed to `scheduleCleanup`. */
export type Scheduled = number[];

/**
 * Runs `test` inside a fresh SubjectStore object with its tables made, handing it the object's
 * SQLite and a `scheduleCleanup` that only records: the stores are exercised synchronously, at the
 * times the test passes them, with no alarm of their own.
 */
export function inFreshStore<T>(test: (sql: SqlStorage, schedule: ScheduleCleanup, scheduled: Scheduled) => T): Promise<T> {
  const stub = env.SUBJECTS.get(env.SUBJECTS.idFromName(`store-test:${crypto.randomUUID()}`));
  return runInDurableObject(stub, (_instance, state) => {
    const sql = state.storage.sql;
    sql.exec(SUBJECT_SCHEMA);
    const scheduled: Scheduled = [];
    return test(sql, (at) => void scheduled.push(at), scheduled);
  });
}

export const T0 = Date.UTC(2026, 0, 1);
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;

/**
 * Makes D1 refuse every write to the sessions rows of `userId` (a trigger aborts it) until the
 * returned function is called (call it in a finally too: it may be called twice).
 */
export async function refuseSessionWrites(userId: string): Promise<() => Promise<void>> {
  if (!/^[0-9a-f-]{36}$/.test(userId)) throw new Error("a user id is a UUID");
  const name = `refuse_${userId.replaceAll("-", "")}`;
  await env.DB.batch([
    env.DB.prepare(`CREATE TRIGGER ${name}_i BEFORE INSERT ON sessions WHEN NEW.user_id = '${userId}' BEGIN SELECT RAISE(ABORT, 'injected'); END`),
    env.DB.prepare(`CREATE TRIGGER ${name}_u BEFORE UPDATE ON sessions WHEN OLD.user_id = '${userId}' BEGIN SELECT RAISE(ABORT, 'injected'); END`),
  ]);
  return async () => {
    await env.DB.batch([env.DB.prepare(`DROP TRIGGER IF EXISTS ${name}_i`), env.DB.prepare(`DROP TRIGGER IF EXISTS ${name}_u`)]);
  };
}
