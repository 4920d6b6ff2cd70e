import { and, eq, sql } from "drizzle-orm";
import { reusable, type Db } from "./db";
import type { Config } from "../config";
import { readThroughUser, writingUsers } from "./hot-cache";
import { users, type UserRow } from "./schema";
import { usernameKey } from "../domain/username";

export type User = UserRow;

// The lookups on every sign-in and authenticated request, built into SQL once per isolate
// (drizzle prepared statements): building a query costs more CPU than the D1 call's setup.
const lookup = reusable((db: Db) => ({
  byEmail: db.select().from(users).where(eq(users.email, sql.placeholder("email"))).prepare(),
  byId: db.select().from(users).where(eq(users.id, sql.placeholder("id"))).prepare(),
  // A sign-in's one D1 read: the row and whether the account has a second factor, together.
  forSignIn: db
    .select({
      user: users,
      // Written out: drizzle renders a column of the selected table unqualified ("id"), which inside
      // the subquery would name the subquery's own table.
      totp: sql<number>`(SELECT COUNT(*) FROM mfa_totp t WHERE t.user_id = "users"."id" AND t.confirmed_at IS NOT NULL)`,
      passkeys: sql<number>`(SELECT COUNT(*) FROM passkeys p WHERE p.user_id = "users"."id")`,
    })
    .from(users)
    .where(eq(users.email, sql.placeholder("email")))
    .prepare(),
}));

export async function findUserByEmail(db: Db, email: string): Promise<User | undefined> {
  return lookup(db).byEmail.get({ email });
}

/** A user by address with the count of their second factors (confirmed TOTP, passkeys), in one query. */
export async function findUserForSignIn(
  db: Db,
  email: string,
): Promise<{ user: User; totp: boolean; passkeys: number } | undefined> {
  const row = await lookup(db).forSignIn.get({ email });
  return row && { user: row.user, totp: row.totp > 0, passkeys: row.passkeys };
}

export async function findUserById(db: Db, id: string): Promise<User | undefined> {
  return lookup(db).byId.get({ id });
}

/**
 * The user's row, at most HOT_PATH_CACHE_MS old (src/storage/hot-cache.ts): only for answers that
 * show it or copy the role into a token, never for a decision a gate makes.
 */
export async function findUserCached(config: Config, db: Db, id: string): Promise<User | undefined> {
  return readThroughUser(config, id, () => findUserById(db, id));
}

/** The account holding `username` in any case or compatibility form. */
export async function findUserByUsername(db: Db, username: string): Promise<{ id: string } | undefined> {
  return db.select({ id: users.id }).from(users).where(eq(users.usernameKey, usernameKey(username))).get();
}

export async function findUserByPhone(db: Db, phone: string): Promise<{ id: string } | undefined> {
  return db.select({ id: users.id }).from(users).where(eq(users.phone, phone)).get();
}

export type NewUser = Omit<typeof users.$inferInsert, "createdAt" | "updatedAt" | "usernameKey">;

export async function insertUser(db: Db, user: NewUser, now: Date): Promise<User> {
  return db.insert(users).values({ ...user, ...withUsernameKey(user.username), createdAt: now, updatedAt: now }).returning().get();
}

/** The username's canonical column, written with it wherever the username is. */
function withUsernameKey(username: string | null | undefined) {
  return username === undefined ? {} : { usernameKey: username === null ? null : usernameKey(username) };
}

/** The whole user holding a phone number (E.164), whether or not the number was proved. */
export async function findAccountByPhone(db: Db, phone: string): Promise<User | undefined> {
  return db.select().from(users).where(eq(users.phone, phone)).get();
}

/**
 * Creates a user whose phone number was just proved by a code. An account that only claimed the
 * number (typed at email sign-up, never proved) loses it in the same transaction: whoever owns the
 * number gets their own account and is never signed into that one.
 */
export async function insertUserWithProvedPhone(db: Db, user: NewUser & { phone: string }, now: Date): Promise<User> {
  // The account losing the number is not known beforehand: every cached row goes.
  const [, inserted] = await writingUsers(
    "all",
    db.batch([
      db
        .update(users)
        .set({ phone: null, updatedAt: now })
        .where(and(eq(users.phone, user.phone), eq(users.isPhoneVerified, false))),
      db.insert(users).values({ ...user, isPhoneVerified: true, createdAt: now, updatedAt: now }).returning(),
    ]),
  );
  return inserted[0]!;
}

export type ProfilePatch = Partial<Pick<User, "fullName" | "username" | "firstName" | "lastName" | "profilePicture">>;

export async function updateProfile(db: Db, id: string, patch: ProfilePatch, now: Date): Promise<User | undefined> {
  return writingUsers(
    [id],
    db.update(users).set({ ...patch, ...withUsernameKey(patch.username), updatedAt: now }).where(eq(users.id, id)).returning().get(),
  );
}

export async function updatePasswordHash(db: Db, id: string, passwordHash: string, now: Date): Promise<void> {
  await writingUsers([id], db.update(users).set({ passwordHash, updatedAt: now }).where(eq(users.id, id)).run());
}

