import { and, asc, eq, sql } from "drizzle-orm";
import type { Db } from "./db";
import type { IdentityProvider } from "../domain/identity-providers";
import { writingUsers } from "./hot-cache";
import { auditEvents, identities, users } from "./schema";
import type { Identity } from "./identities";
import { anotherWayIn } from "./ways-in";

// A signed-in user's own identities: listing them, linking one with proof, and removing a way in
// unless it is the last (src/storage/ways-in.ts decides, inside each removing statement).

export async function listIdentitiesOf(db: Db, userId: string): Promise<Identity[]> {
  return db
    .select()
    .from(identities)
    .where(eq(identities.userId, userId))
    .orderBy(asc(identities.createdAt), asc(identities.providerUserId))
    .all();
}

/** Inserts the link unless the identity is linked already (to anyone): true when this call made it. */
export async function insertIdentityIfFree(
  db: Db,
  row: { provider: IdentityProvider; providerUserId: string; userId: string; email: string | null },
  now: Date,
): Promise<boolean> {
  const inserted = await db
    .insert(identities)
    .values({ ...row, createdAt: now })
    .onConflictDoNothing({ target: [identities.provider, identities.providerUserId] })
    .returning({ userId: identities.userId })
    .all();
  return inserted.length > 0;
}

/** "removed", or why not: the user has none of it, or it is their last way in. */
export type Removal = "removed" | "not_found" | "last_way_in";

/** Unlinks every Google identity of the user, unless nothing else would let them in. */
export async function removeGoogleIdentities(db: Db, userId: string): Promise<Removal> {
  const removed = await db
    .delete(identities)
    .where(and(eq(identities.userId, userId), eq(identities.provider, "google"), anotherWayIn(userId, { kind: "google" })))
    .returning({ subject: identities.providerUserId })
    .all();
  if (removed.length > 0) return "removed";
  const left = await db
    .select({ subject: identities.providerUserId })
    .from(identities)
    .where(and(eq(identities.userId, userId), eq(identities.provider, "google")))
    .get();
  return left ? "last_way_in" : "not_found";
}

/**
 * Clears the password hash. A password whose email is not verified lets nobody in, so removing it
 * never needs another way in.
 */
export async function removePassword(db: Db, userId: string, now: Date): Promise<Removal> {
  const removed = await writingUsers(
    [userId],
    db
      .update(users)
      .set({ passwordHash: null, updatedAt: now })
      .where(
        and(
          eq(users.id, userId),
          sql`${users.passwordHash} IS NOT NULL`,
          sql`(${users.email} IS NULL OR ${users.isEmailVerified} = 0 OR ${anotherWayIn(userId, { kind: "password" })})`,
        ),
      )
      .returning({ id: users.id })
      .all(),
  );
  if (removed.length > 0) return "removed";
  const user = await db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, userId)).get();
  return user?.passwordHash ? "last_way_in" : "not_found";
}

/**
 * Clears the user's phone number (proved or not; an unproved one lets nobody in) and, in the same
 * transaction, the number from the details of audit rows about the user (the phone sign-up's
 * `user.created` carries it): a removed number is kept nowhere. The audit statement runs only if
 * the number really left the user's row.
 */
export async function removePhone(db: Db, userId: string, now: Date): Promise<Removal> {
  const current = await db.select({ phone: users.phone }).from(users).where(eq(users.id, userId)).get();
  const phone = current?.phone;
  if (!phone) return "not_found";
  const [removed] = await writingUsers(
    [userId],
    db.batch([
      db
        .update(users)
        .set({ phone: null, isPhoneVerified: false, updatedAt: now })
        .where(
          and(
            eq(users.id, userId),
            eq(users.phone, phone),
            sql`(${users.isPhoneVerified} = 0 OR ${anotherWayIn(userId, { kind: "phone" })})`,
          ),
        )
        .returning({ id: users.id }),
      db
        .update(auditEvents)
        .set({ details: sql`json_remove(${auditEvents.details}, '$.phone')` })
        .where(
          and(
            // Events about the user (subject_id defaults to the actor): indexed, no scan of the whole log.
            eq(auditEvents.subjectId, userId),
            sql`(CASE WHEN json_valid(${auditEvents.details}) THEN json_extract(${auditEvents.details}, '$.phone') END) = ${phone}`,
            sql`NOT EXISTS (SELECT 1 FROM ${users} WHERE ${users.id} = ${userId} AND ${users.phone} = ${phone})`,
          ),
        ),
    ]),
  );
  if (removed.length > 0) return "removed";
  // Changed meanwhile (another removal won, or the number was replaced): judge the row as it is now.
  const after = await db.select({ phone: users.phone }).from(users).where(eq(users.id, userId)).get();
  return after?.phone ? "last_way_in" : "not_found";
}
