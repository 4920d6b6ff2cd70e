import type { Db } from "../storage/db";
import { writeSessionProjections, type OpenedSession, type SessionProjection } from "../storage/sessions";
import type { ScheduleCleanup } from "./subject-types";

// The user's object is the truth for their sessions; D1's `sessions` rows are a projection of it for
// listing, written by the object alone. Every change is first recorded here, in the same synchronous
// step as the change itself, then written to D1; an entry leaves only once D1 has taken it. What the
// immediate write does not settle (D1 failed, or the object was evicted mid-write) the alarm retries,
// because every entry schedules the alarm for its retry time when it is recorded.

/** The alarm's first retry of a write not settled at once; each failure doubles it, up to MAX. */
export const RETRY_MS = 30_000;
const MAX_RETRY_MS = 10 * 60_000;

/**
 * How long a revocation of a session this object does not hold (one D1 still lists) is retried:
 * the object does not know that row's expiry, past which D1 would not list it anyway.
 */
const UNHELD_SESSION_HORIZON_MS = 24 * 3600_000;

/** A pending change and the version it was read at: a newer change to the entry must not be lost. */
export type PendingProjection = SessionProjection & { version: number };

type Entry = {
  id: string;
  user_id: string;
  version: number;
  opened: string | null;
  revoked_at: number | null;
  last_used_at: number | null;
};

/**
 * The pending D1 writes, one entry per session, merged as they come. Synchronous; `at` is when the
 * change happened (the caller's clock), `clock` the object's own time, which retries are timed by.
 */
export class SessionOutbox {
  constructor(
    private readonly sql: SqlStorage,
    private readonly scheduleCleanup: ScheduleCleanup,
  ) {}

  /** Returns the entry as merged, for a write of it at once. */
  opened(userId: string, id: string, session: OpenedSession, clock: number): PendingProjection {
    return this.#merge({ id, userId, opened: session, revokedAt: null, lastUsedAt: session.createdAt }, session.expiresAt, clock);
  }

  revoked(userId: string, sessions: Array<{ id: string; expiresAt: number | undefined }>, at: number, clock: number): void {
    for (const s of sessions) {
      this.#merge({ id: s.id, userId, opened: null, revokedAt: at, lastUsedAt: null }, s.expiresAt ?? at + UNHELD_SESSION_HORIZON_MS, clock);
    }
  }

  touched(userId: string, id: string, at: number, expiresAt: number, clock: number): void {
    this.#merge({ id, userId, opened: null, revokedAt: null, lastUsedAt: at }, expiresAt, clock);
  }

  /** A session that failed to open keeps its row to write, but not its sign-in's audit row. */
  dropAudit(id: string): void {
    this.sql.exec(`UPDATE session_outbox SET opened = json_remove(opened, '$.audit') WHERE id = ? AND opened IS NOT NULL`, id);
  }

  /** The pending entries of these sessions (those with one). */
  pending(ids: string[]): PendingProjection[] {
    return ids.flatMap((id) => this.sql.exec<Entry>(`SELECT * FROM session_outbox WHERE id = ?`, id).toArray().map(toPending));
  }

  /** Every pending entry, oldest retry first, at most `limit`. */
  all(limit = 100): PendingProjection[] {
    return this.sql.exec<Entry>(`SELECT * FROM session_outbox ORDER BY retry_at LIMIT ?`, limit).toArray().map(toPending);
  }

  /** D1 has taken these: an entry goes, unless it changed meanwhile; then only its insert is done. */
  settled(written: PendingProjection[]): void {
    for (const w of written) {
      const gone = this.sql.exec(`DELETE FROM session_outbox WHERE id = ? AND version = ?`, w.id, w.version).rowsWritten;
      if (gone === 0 && w.opened) this.sql.exec(`UPDATE session_outbox SET opened = NULL WHERE id = ?`, w.id);
    }
  }

  /** D1 refused these: each is retried later, twice as late after each failure. */
  failed(entries: PendingProjection[], clock: number): void {
    for (const e of entries) {
      this.sql.exec(
        `UPDATE session_outbox SET attempts = attempts + 1, retry_at = ? + MIN(?, ? * (1 << MIN(attempts, 10))) WHERE id = ?`,
        clock, MAX_RETRY_MS, RETRY_MS, e.id,
      );
    }
    const next = this.sql.exec<{ at: number | null }>(`SELECT MIN(retry_at) AS at FROM session_outbox`).one().at;
    if (next !== null) this.scheduleCleanup(next);
  }

  /** Entries of sessions past their expiry: D1 lists none of them, so there is nothing left to write. */
  prune(now: number): void {
    this.sql.exec(`DELETE FROM session_outbox WHERE expires_at <= ?`, now);
  }

  #merge(change: SessionProjection, expiresAt: number, clock: number): PendingProjection {
    // A revocation stays, the last use only moves forward, and the row to insert is kept until D1 has it.
    const merged = this.sql.exec<Entry>(
      `INSERT INTO session_outbox (id, user_id, opened, revoked_at, last_used_at, retry_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET
         version = version + 1,
         opened = COALESCE(opened, excluded.opened),
         revoked_at = COALESCE(revoked_at, excluded.revoked_at),
         last_used_at = CASE WHEN last_used_at IS NULL OR excluded.last_used_at > last_used_at
                             THEN excluded.last_used_at ELSE last_used_at END,
         retry_at = MIN(retry_at, excluded.retry_at),
         expires_at = MAX(expires_at, excluded.expires_at)
       RETURNING id, user_id, version, opened, revoked_at, last_used_at`,
      change.id, change.userId, change.opened ? JSON.stringify(change.opened) : null,
      change.revokedAt, change.lastUsedAt, clock + RETRY_MS, expiresAt,
    ).one();
    this.scheduleCleanup(clock + RETRY_MS);
    return toPending(merged);
  }
}

function toPending(e: Entry): PendingProjection {
  return {
    id: e.id,
    userId: e.user_id,
    version: e.version,
    opened: e.opened === null ? null : (JSON.parse(e.opened) as OpenedSession),
    revokedAt: e.revoked_at,
    lastUsedAt: e.last_used_at,
  };
}

/**
 * Writes the pending entries of these sessions (or all, oldest first) to D1 and settles those D1
 * took; what it refused stays pending, retried from the alarm. Never throws. True when nothing asked
 * for is left pending.
 */
export async function flushOutbox(outbox: SessionOutbox, db: Db, ids?: Array<string | PendingProjection>): Promise<boolean> {
  // Entries just merged are written as they are; ids are read back.
  const entries = ids ? ids.flatMap((e) => (typeof e === "string" ? outbox.pending([e]) : [e])) : outbox.all();
  const written = await writeProjections(db, entries);
  outbox.settled(written);
  const refused = entries.filter((e) => !written.includes(e));
  if (refused.length > 0) outbox.failed(refused, Date.now());
  return refused.length === 0;
}

/** Writes entries to D1 and returns those it took; one that D1 refuses does not hold back the others. */
async function writeProjections(db: Db, entries: PendingProjection[]): Promise<PendingProjection[]> {
  if (entries.length === 0) return [];
  try {
    await writeSessionProjections(db, entries);
    return entries;
  } catch (err) {
    logFailure(err);
    if (entries.length === 1) return [];
    const results = await Promise.allSettled(entries.map((e) => writeSessionProjections(db, [e])));
    return entries.filter((_, i) => results[i]!.status === "fulfilled");
  }
}

function logFailure(err: unknown): void {
  // drizzle's own message carries the statement's parameters (IPs, user agents): only D1's reason is logged.
  let reason = err;
  while (reason instanceof Error && reason.cause !== undefined) reason = reason.cause;
  const message = reason instanceof Error ? reason.message : String(reason);
  console.error(JSON.stringify({ level: "warn", event: "session_projection_failed", error: message }));
}
