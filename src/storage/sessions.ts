import { and, desc, eq, gt, isNull, sql } from "drizzle-orm";
import { auditInsertOnce, type AuditRecord } from "./audit";
import { boundStatement, reusable, type Db } from "./db";
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
  /** The sign-in's audit row, written in the same batch as the session's row. */
  audit?: AuditRecord;
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

// The projection's two writes, built into SQL once per isolate (the user's Durable Object makes one
// at every sign-in, refresh minute and revocation; building them was most of the write's CPU). A
// null placeholder leaves its column as it is. Every value is bound as it is stored (times in ms):
// a bare placeholder in an insert would be encoded by its column, which cannot take a null time.
const raw = (name: string) => sql`${sql.placeholder(name)}`;
const writes = reusable((db: Db) => ({
  open: db
    .insert(sessions)
    .values({
      id: raw("id"),
      userId: raw("userId"),
      deviceId: raw("deviceId"),
      deviceName: raw("deviceName"),
      userAgent: raw("userAgent"),
      ip: raw("ip"),
      createdAt: raw("createdAt"),
      lastUsedAt: raw("lastUsedAt"),
      expiresAt: raw("expiresAt"),
      revokedAt: raw("revokedAt"),
    })
    .onConflictDoUpdate({
      target: sessions.id,
      set: {
        revokedAt: sql`coalesce(${sessions.revokedAt}, excluded.revoked_at)`,
        lastUsedAt: sql`max(${sessions.lastUsedAt}, excluded.last_used_at)`,
      },
    })
    .prepare(),
  change: db
    .update(sessions)
    .set({
      revokedAt: sql`coalesce(${sessions.revokedAt}, ${sql.placeholder("revokedAt")})`,
      lastUsedAt: sql`max(${sessions.lastUsedAt}, coalesce(${sql.placeholder("lastUsedAt")}, ${sessions.lastUsedAt}))`,
    })
    .where(and(eq(sessions.id, sql.placeholder("id")), eq(sessions.userId, sql.placeholder("userId"))))
    .prepare(),
}));

/** Writes the given changes in one batch (one transaction); throws when D1 refuses any of them. */
export async function writeSessionProjections(db: Db, changes: SessionProjection[]): Promise<void> {
  const statements = changes.flatMap((change) => {
    const row = statementFor(db, change);
    const audit = change.opened?.audit;
    return row ? (audit ? [row, auditInsertOnce(db, audit)] : [row]) : [];
  });
  if (statements.length > 0) await (db as Db & { $client: D1Database }).$client.batch(statements);
}

function statementFor(db: Db, change: SessionProjection): D1PreparedStatement | null {
  const { opened, revokedAt, lastUsedAt } = change;
  const { open, change: update } = writes(db);
  if (opened) {
    return boundStatement(open, {
      id: change.id,
      userId: change.userId,
      deviceId: opened.deviceId,
      deviceName: opened.deviceName,
      userAgent: opened.userAgent,
      ip: opened.ip,
      createdAt: opened.createdAt,
      lastUsedAt: Math.max(opened.createdAt, lastUsedAt ?? 0),
      expiresAt: opened.expiresAt,
      revokedAt,
    });
  }
  if (revokedAt === null && lastUsedAt === null) return null;
  return boundStatement(update, { id: change.id, userId: change.userId, revokedAt, lastUsedAt });
}
