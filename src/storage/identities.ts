import { and, eq } from "drizzle-orm";
import type { Db } from "./db";
import type { IdentityProvider } from "../domain/identity-providers";
import { identities, users } from "./schema";
import type { NewUser, User } from "./users";

export type Identity = typeof identities.$inferSelect;

export async function findIdentity(db: Db, provider: IdentityProvider, providerUserId: string): Promise<Identity | undefined> {
  return db
    .select()
    .from(identities)
    .where(and(eq(identities.provider, provider), eq(identities.providerUserId, providerUserId)))
    .get();
}

/** Links an identity to a user; a concurrent link of the same identity wins and this one changes nothing. */
export async function linkIdentity(
  db: Db,
  row: { provider: IdentityProvider; providerUserId: string; userId: string; email: string | null },
  now: Date,
): Promise<void> {
  await db
    .insert(identities)
    .values({ ...row, createdAt: now })
    .onConflictDoNothing({ target: [identities.provider, identities.providerUserId] })
    .run();
}

export async function updateIdentityEmail(db: Db, provider: IdentityProvider, providerUserId: string, email: string): Promise<void> {
  await db
    .update(identities)
    .set({ email })
    .where(and(eq(identities.provider, provider), eq(identities.providerUserId, providerUserId)))
    .run();
}

/**
 * Creates a user and their first identity in one transaction (D1 batch): a unique conflict on either
 * (the email, or the identity a concurrent sign-in just made) rolls both back and is thrown.
 */
export async function insertUserWithIdentity(
  db: Db,
  user: NewUser,
  identity: { provider: IdentityProvider; providerUserId: string; email: string | null },
  now: Date,
): Promise<User> {
  const [created] = await db.batch([
    db.insert(users).values({ ...user, createdAt: now, updatedAt: now }).returning(),
    db.insert(identities).values({ ...identity, userId: user.id, createdAt: now }),
  ]);
  return created[0]!;
}
