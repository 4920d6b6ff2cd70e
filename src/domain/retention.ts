import type { Db } from "../storage/db";
import { deleteAuditEventsBefore, deleteSessionsEndedBefore } from "../storage/retention";

// What the daily cron deletes for age (src/scheduled.ts): audit events past AUDIT_RETENTION_DAYS,
// and the listing's rows of sessions that ended more than SESSION_HISTORY_DAYS ago.

const DAY_MS = 86_400_000;

/** How long an ended session stays in the session listing and the export. */
export const SESSION_HISTORY_DAYS = 30;

/** Rows per delete, and deletes per run: 500,000 rows a day at most, each query well under D1's 30 s. */
export const PRUNE_BATCH = 10_000;
export const PRUNE_MAX_BATCHES = 50;

/** Audit events older than `days`; how many were deleted. */
export function pruneAudit(db: Db, days: number, now: number): Promise<number> {
  return inBatches((limit) => deleteAuditEventsBefore(db, now - days * DAY_MS, limit));
}

/** Session rows that ended (revoked, or expired) more than SESSION_HISTORY_DAYS ago. */
export function pruneEndedSessions(db: Db, now: number): Promise<number> {
  return inBatches((limit) => deleteSessionsEndedBefore(db, now - SESSION_HISTORY_DAYS * DAY_MS, limit));
}

/**
 * Repeats `step` while its batch comes back full, at most PRUNE_MAX_BATCHES times; a backlog left
 * past that goes on the next day.
 */
async function inBatches(step: (limit: number) => Promise<number>): Promise<number> {
  let deleted = 0;
  for (let i = 0; i < PRUNE_MAX_BATCHES; i++) {
    const n = await step(PRUNE_BATCH);
    deleted += n;
    if (n < PRUNE_BATCH) break;
  }
  return deleted;
}
