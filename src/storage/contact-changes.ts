import { and, eq, isNull, ne } from "drizzle-orm";
import type { Db } from "./db";
import { writingUsers } from "./hot-cache";
import { users } from "./schema";
import type { User } from "./users";

// The writes of an account change: each is one statement or one batch (one transaction), and the
// unique indexes on email and phone decide every race with a sign-up or another account.

/**
 * The user's address becomes `email`, proved; an unproved address given at phone sign-up is
 * dropped with it. Throws a unique violation on `email` when another account holds the address.
 */
export async function setVerifiedEmail(db: Db, id: string, email: string, now: Date): Promise<User | undefined> {
  return writingUsers(
    [id],
    db
      .update(users)
      .set({ email, isEmailVerified: true, unverifiedEmail: null, updatedAt: now })
      .where(eq(users.id, id))
      .returning()
      .get(),
  );
}

/**
 * The user's number becomes `phone`, proved. In the same transaction another account that only
 * claimed the number (typed at email sign-up, never proved) loses it, as a phone sign-in does;
 * an account that proved it keeps it and this write fails on the unique index on `phone`.
 */
export async function setProvedPhone(db: Db, id: string, phone: string, now: Date): Promise<User | undefined> {
  // The account losing the number is not known beforehand: every cached row goes.
  const [, updated] = await writingUsers(
    "all",
    db.batch([
      db
        .update(users)
        .set({ phone: null, updatedAt: now })
        .where(and(eq(users.phone, phone), eq(users.isPhoneVerified, false), ne(users.id, id))),
      db.update(users).set({ phone, isPhoneVerified: true, updatedAt: now }).where(eq(users.id, id)).returning(),
    ]),
  );
  return updated[0];
}

/** Sets a first password: only while the account has none, so two racing requests set one. */
export async function setFirstPasswordHash(db: Db, id: string, passwordHash: string, now: Date): Promise<boolean> {
  const rows = await writingUsers(
    [id],
    db
      .update(users)
      .set({ passwordHash, updatedAt: now })
      .where(and(eq(users.id, id), isNull(users.passwordHash)))
      .returning({ id: users.id })
      .all(),
  );
  return rows.length === 1;
}
