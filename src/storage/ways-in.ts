import { or, sql, type SQL } from "drizzle-orm";
import { identities, passkeys, users } from "./schema";

// The one definition of a user's ways in, for the statements that remove one: a passkey, a
// password with a verified email, a verified phone number, a Google identity (docs/api.md; the
// emailed sign-in code is not counted, so the rule errs towards refusing). Each removal puts
// `anotherWayIn` inside its own DELETE or UPDATE, so the check and the write are one statement: of
// two parallel removals of a user's last two ways in, the second finds nothing left to keep.

/** The way in a statement is about to remove. */
export type WayIn = { kind: "passkey"; id: string } | { kind: "password" } | { kind: "phone" } | { kind: "google" };

/** SQL true when the user keeps a way to sign in other than `removed`. */
export function anotherWayIn(userId: string, removed: WayIn): SQL {
  const password = sql`(${users.passwordHash} IS NOT NULL AND ${users.email} IS NOT NULL AND ${users.isEmailVerified} = 1)`;
  const phone = sql`(${users.phone} IS NOT NULL AND ${users.isPhoneVerified} = 1)`;
  const onRow = [removed.kind === "password" ? null : password, removed.kind === "phone" ? null : phone].filter((c): c is SQL => c !== null);
  const ways: SQL[] = [
    removed.kind === "passkey"
      ? sql`EXISTS (SELECT 1 FROM ${passkeys} p2 WHERE p2.user_id = ${userId} AND p2.id <> ${removed.id})`
      : sql`EXISTS (SELECT 1 FROM ${passkeys} p2 WHERE p2.user_id = ${userId})`,
    // Inside a subquery that names `users` again, these columns are that row's, also in an UPDATE of users.
    sql`EXISTS (SELECT 1 FROM ${users} WHERE ${users.id} = ${userId} AND (${sql.join(onRow, sql` OR `)}))`,
  ];
  if (removed.kind !== "google") {
    ways.push(sql`EXISTS (SELECT 1 FROM ${identities} i2 WHERE i2.user_id = ${userId} AND i2.provider = 'google')`);
  }
  return or(...ways)!;
}
