import { and, count, eq, isNull, sql } from "drizzle-orm";
import type { SealedSecret } from "../domain/mfa-secrets";
import type { Db } from "./db";
import { deletePasskeysOf } from "./passkeys";
import { mfaRecoveryCodes, mfaTotp } from "./schema";

// Second factors in D1: the TOTP secret (encrypted) and the recovery codes (hashed) of each user.

export type TotpFactor = SealedSecret & { confirmedAt: Date | null };

export async function findTotp(db: Db, userId: string): Promise<TotpFactor | null> {
  const row = await db
    .select({ ciphertext: mfaTotp.secretCiphertext, keyId: mfaTotp.keyId, confirmedAt: mfaTotp.confirmedAt })
    .from(mfaTotp)
    .where(eq(mfaTotp.userId, userId))
    .get();
  return row ?? null;
}

/** Starts (or restarts) an enrolment; an active factor is left as it is (returns false). */
export async function putPendingTotp(db: Db, userId: string, sealed: SealedSecret, now: Date): Promise<boolean> {
  const rows = await db
    .insert(mfaTotp)
    .values({ userId, secretCiphertext: sealed.ciphertext, keyId: sealed.keyId, confirmedAt: null, createdAt: now })
    .onConflictDoUpdate({
      target: mfaTotp.userId,
      set: { secretCiphertext: sealed.ciphertext, keyId: sealed.keyId, createdAt: now },
      setWhere: isNull(mfaTotp.confirmedAt),
    })
    .returning({ userId: mfaTotp.userId })
    .all();
  return rows.length > 0;
}

/**
 * Turns on the pending factor whose ciphertext the caller checked the code against, with a new set of
 * recovery codes, in one transaction; false when it changed meanwhile (restarted or confirmed by a
 * parallel request). The codes are written only while that pending row exists, so a losing confirm
 * cannot replace the codes a winning one has shown.
 */
export async function activateTotp(db: Db, userId: string, ciphertext: string, codeHashes: string[], now: Date): Promise<boolean> {
  const pending = and(eq(mfaTotp.userId, userId), eq(mfaTotp.secretCiphertext, ciphertext), isNull(mfaTotp.confirmedAt));
  const at = now.getTime();
  const results = await db.batch([
    db.delete(mfaRecoveryCodes).where(
      and(eq(mfaRecoveryCodes.userId, userId), sql`EXISTS (SELECT 1 FROM ${mfaTotp} WHERE ${pending})`),
    ),
    // One row per code, selected from the pending factor's row (the user id is its key): none once it is gone.
    ...codeHashes.map((hash) =>
      db.insert(mfaRecoveryCodes).select(
        db
          .select({
            userId: mfaTotp.userId,
            codeHash: sql<string>`${hash}`.as("code_hash"),
            usedAt: sql<null>`NULL`.as("used_at"),
            createdAt: sql<number>`${at}`.as("created_at"),
          })
          .from(mfaTotp)
          .where(pending),
      ),
    ),
    db.update(mfaTotp).set({ confirmedAt: now }).where(pending).returning({ userId: mfaTotp.userId }),
  ]);
  return (results.at(-1) as unknown[]).length > 0;
}

export async function replaceRecoveryCodes(db: Db, userId: string, codeHashes: string[], now: Date): Promise<void> {
  await db.batch([
    db.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId)),
    db.insert(mfaRecoveryCodes).values(codeHashes.map((codeHash) => ({ userId, codeHash, createdAt: now }))),
  ]);
}

/** Spends a recovery code in one statement: of two requests with the same code, one gets true. */
export async function spendRecoveryCode(db: Db, userId: string, codeHash: string, now: Date): Promise<boolean> {
  const rows = await db
    .update(mfaRecoveryCodes)
    .set({ usedAt: now })
    .where(and(eq(mfaRecoveryCodes.userId, userId), eq(mfaRecoveryCodes.codeHash, codeHash), isNull(mfaRecoveryCodes.usedAt)))
    .returning({ userId: mfaRecoveryCodes.userId })
    .all();
  return rows.length > 0;
}

export async function recoveryCodesLeft(db: Db, userId: string): Promise<number> {
  const row = await db
    .select({ n: count() })
    .from(mfaRecoveryCodes)
    .where(and(eq(mfaRecoveryCodes.userId, userId), isNull(mfaRecoveryCodes.usedAt)))
    .get();
  return row?.n ?? 0;
}

/**
 * Removes the authenticator app and recovery codes of a user (their own removal), and with
 * `passkeys` their passkeys too (an administrator's reset), in one transaction.
 */
export async function deleteSecondFactors(db: Db, userId: string, options: { passkeys?: boolean } = {}): Promise<boolean> {
  const [removed] = await db.batch([
    db.delete(mfaTotp).where(eq(mfaTotp.userId, userId)).returning({ userId: mfaTotp.userId }),
    db.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId)),
    ...(options.passkeys ? [deletePasskeysOf(db, userId)] : []),
  ]);
  return removed.length > 0;
}
