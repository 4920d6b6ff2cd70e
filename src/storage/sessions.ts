import { and, desc, eq, gt, inArray, isNull } from "drizzle-orm";
import type { Db } from "./db";
import { sessions, type SessionRow } from "./schema";

export type Session = SessionRow;

export async function insertSession(db: Db, row: Session): Promise<void> {
  await db.insert(sessions).values(row).run();
}

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

export async function markSessionsRevoked(db: Db, userId: string, ids: string[], now: Date): Promise<void> {
  // D1 binds at most 100 parameters per statement: revoke in chunks, in one batch (one transaction).
  const statements = [];
  for (let i = 0; i < ids.length; i += 90) {
    statements.push(
      db
        .update(sessions)
        .set({ revokedAt: now })
        .where(and(eq(sessions.userId, userId), inArray(sessions.id, ids.slice(i, i + 90)), isNull(sessions.revokedAt))),
    );
  }
  const [first, ...rest] = statements;
  if (first) await db.batch([first, ...rest]);
}

export async function touchSession(db: Db, id: string, now: Date): Promise<void> {
  await db.update(sessions).set({ lastUsedAt: now }).where(eq(sessions.id, id)).run();
}
