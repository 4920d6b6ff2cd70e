import { and, desc, eq, gt, isNull, sql } from "drizzle-orm";
import type { Db } from "./db";
import { sessions, type SessionRow } from "./schema";

// D1's `sessions` table is a projection for listing: only the user's Durable Object writes it
// (src/durable/session-projection.ts), from its own sessions, which are the truth for refresh and
// revocation. Writes merge monotonically (a revocation stays, the last use only moves forward), so
// they may be repeated and may land in any order.

export type Session = SessionRow;

/** What a row is made of when the projection first writes it (times in ms). */
export type OpenedSession = {
  deviceId: string;
  deviceName: string | null;
  userAgent: string | null;
  ip: string | null;
  createdAt: number;
  expiresAt: number;
};

/** One session's pending change: the whole row while it may be missing from D1, then what changed. */
export type SessionProjection = {
  id: string;
  userId: string;
  opened: OpenedSession | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
};

export async function listActiveSessions(db: Db, userId: string, now: Date): Promise<Session[]> {
  return db
    .select()
    .from(sessions)
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)))
    .orderBy(desc(sessions.lastUsedAt))
    .all();
}

export async function findActiveSession(db: Db, userId: string, id: string, now: Date): Promise<Session | undefined> {
  return db
    .select()
    .from(sessions)
    .where(and(eq(sessions.id, id), eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)))
    .get();
}

/** Writes the given changes in one batch (one transaction); throws when D1 refuses any of them. */
export async function writeSessionProjections(db: Db, changes: SessionProjection[]): Promise<void> {
  const statements = changes.flatMap((change) => statementFor(db, change) ?? []);
  const [first, ...rest] = statements;
  if (first) await db.batch([first, ...rest]);
}

function statementFor(db: Db, change: SessionProjection) {
  const { opened, revokedAt, lastUsedAt } = change;
  if (opened) {
    return db
      .insert(sessions)
      .values({
        id: change.id,
        userId: change.userId,
        deviceId: opened.deviceId,
        deviceName: opened.deviceName,
        userAgent: opened.userAgent,
        ip: opened.ip,
        createdAt: new Date(opened.createdAt),
        lastUsedAt: new Date(Math.max(opened.createdAt, lastUsedAt ?? 0)),
        expiresAt: new Date(opened.expiresAt),
        revokedAt: revokedAt === null ? null : new Date(revokedAt),
      })
      .onConflictDoUpdate({
        target: sessions.id,
        set: {
          revokedAt: sql`coalesce(${sessions.revokedAt}, excluded.revoked_at)`,
          lastUsedAt: sql`max(${sessions.lastUsedAt}, excluded.last_used_at)`,
        },
      });
  }
  const set: { revokedAt?: ReturnType<typeof sql>; lastUsedAt?: ReturnType<typeof sql> } = {};
  if (revokedAt !== null) set.revokedAt = sql`coalesce(${sessions.revokedAt}, ${revokedAt})`;
  if (lastUsedAt !== null) set.lastUsedAt = sql`max(${sessions.lastUsedAt}, ${lastUsedAt})`;
  if (!set.revokedAt && !set.lastUsedAt) return null;
  return db
    .update(sessions)
    .set(set)
    .where(and(eq(sessions.id, change.id), eq(sessions.userId, change.userId)));
}
