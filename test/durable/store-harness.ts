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
