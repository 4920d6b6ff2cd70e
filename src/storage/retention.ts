import { sql } from "drizzle-orm";
import type { Db } from "./db";
import { auditEvents, sessions } from "./schema";

// Deletes of rows past their retention, a bounded batch at a time: D1 stops a query after 30 s and
// asks for large deletes to be split. Each picks the oldest rows through an index and returns how
// many it deleted; the caller repeats while a batch comes back full.

/** Audit events recorded before `before` (ms), at most `limit` of them (index audit_at_idx). */
export async function deleteAuditEventsBefore(db: Db, before: number, limit: number): Promise<number> {
  const result = await db.run(
    sql`DELETE FROM ${auditEvents} WHERE rowid IN (SELECT rowid FROM ${auditEvents} WHERE ${auditEvents.at} < ${before} ORDER BY ${auditEvents.at} LIMIT ${limit})`,
  );
  return result.meta.changes ?? 0;
}

/**
 * Session rows (the D1 listing) that ended before `before` (ms): revoked then, or expired then when
 * never revoked; at most `limit` of them (index sessions_ended_idx). The user's Durable Object
 * forgot them when they ended; only the listing and the export still showed them.
 */
export async function deleteSessionsEndedBefore(db: Db, before: number, limit: number): Promise<number> {
  const ended = sql`coalesce(${sessions.revokedAt}, ${sessions.expiresAt})`;
  const result = await db.run(
    sql`DELETE FROM ${sessions} WHERE rowid IN (SELECT rowid FROM ${sessions} WHERE ${ended} < ${before} ORDER BY ${ended} LIMIT ${limit})`,
  );
  return result.meta.changes ?? 0;
}
