import { and, asc, count, eq, sql } from "drizzle-orm";
import type { Db } from "./db";
import { passkeys } from "./schema";
import { anotherWayIn } from "./ways-in";

// Passkeys in D1: one row per WebAuthn credential, public data only.

export type Passkey = typeof passkeys.$inferSelect;
export type NewPasskey = typeof passkeys.$inferInsert;

export async function insertPasskey(db: Db, row: NewPasskey): Promise<Passkey> {
  return db.insert(passkeys).values(row).returning().get();
}

export async function listPasskeys(db: Db, userId: string): Promise<Passkey[]> {
  return db.select().from(passkeys).where(eq(passkeys.userId, userId)).orderBy(asc(passkeys.createdAt), asc(passkeys.id)).all();
}

export async function countPasskeys(db: Db, userId: string): Promise<number> {
  const row = await db.select({ n: count() }).from(passkeys).where(eq(passkeys.userId, userId)).get();
  return row?.n ?? 0;
}

export async function findPasskeyByCredentialId(db: Db, credentialId: string): Promise<Passkey | undefined> {
  return db.select().from(passkeys).where(eq(passkeys.credentialId, credentialId)).get();
}

export async function renamePasskey(db: Db, userId: string, id: string, name: string): Promise<Passkey | undefined> {
  return db
    .update(passkeys)
    .set({ name })
    .where(and(eq(passkeys.id, id), eq(passkeys.userId, userId)))
    .returning()
    .get();
}

/**
 * Records a verified assertion's counter, in one statement: the stored counter must still be below
 * it (or both zero, for authenticators that keep none), so of two assertions racing with one counter
 * value only one is recorded. False: the counter did not go forward.
 */
export async function recordPasskeyUse(db: Db, id: string, newCounter: number, now: Date): Promise<boolean> {
  const forward = newCounter === 0 ? eq(passkeys.counter, 0) : sql`${passkeys.counter} < ${newCounter}`;
  const rows = await db
    .update(passkeys)
    .set({ counter: newCounter, lastUsedAt: now })
    .where(and(eq(passkeys.id, id), forward))
    .returning({ id: passkeys.id })
    .all();
  return rows.length > 0;
}

export type PasskeyRemoval = "deleted" | "not_found" | "last_way_in";

/** Deletes a passkey unless it is the user's last way in (src/storage/ways-in.ts), checked inside the DELETE. */
export async function deletePasskeyKeepingAWayIn(db: Db, userId: string, id: string): Promise<PasskeyRemoval> {
  const removed = await db
    .delete(passkeys)
    .where(and(eq(passkeys.id, id), eq(passkeys.userId, userId), anotherWayIn(userId, { kind: "passkey", id })))
    .returning({ id: passkeys.id })
    .all();
  if (removed.length > 0) return "deleted";
  const exists = await db.select({ id: passkeys.id }).from(passkeys).where(and(eq(passkeys.id, id), eq(passkeys.userId, userId))).get();
  return exists ? "last_way_in" : "not_found";
}

/** Every passkey of a user (an administrator's reset of their second factors). */
export function deletePasskeysOf(db: Db, userId: string) {
  return db.delete(passkeys).where(eq(passkeys.userId, userId));
}

