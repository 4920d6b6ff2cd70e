import { and, asc, eq, inArray, isNotNull, or, sql } from "drizzle-orm";
import type { Db } from "./db";
import { writingUsers } from "./hot-cache";
import {
  auditEvents,
  deletions,
  identities,
  kycApplications,
  kycDocuments,
  mfaRecoveryCodes,
  mfaTotp,
  passkeys,
  sessions,
  users,
} from "./schema";
import type { User } from "./users";

// The D1 side of an account's deletion (src/domain/account-deletion.ts): the mark, which disables the
// account and records the deletion in one batch, and the erasure, which removes every row that holds
// the user's personal data, scrubs their audit rows and drops the mark in one batch.

export type Deletion = typeof deletions.$inferSelect;

export type MarkResult = { ok: true; user: User } | { ok: false; reason: "not_found" | "last_admin" };

/**
 * Marks an account deleted: from this batch on it cannot sign in or refresh (`is_active` 0, read by
 * the sign-in pipeline and by refresh), and the `deletions` row tells the housekeeping to finish it.
 * The last active admin is refused in the UPDATE itself, as for a demotion (src/storage/admin-users.ts).
 * Marking an account already marked changes nothing and answers ok, so a retry resumes the erasure.
 */
export async function markDeletion(db: Db, userId: string, requestedBy: string, now: Date): Promise<MarkResult> {
  const keepsAnAdmin = sql`NOT (${users.role} = 'ADMIN' AND ${users.isActive} = 1 AND
    (SELECT COUNT(*) FROM users AS admins WHERE admins.role = 'ADMIN' AND admins.is_active = 1) <= 1)`;
  const [found, , , marks] = await writingUsers(
    [userId],
    db.batch([
      db.select().from(users).where(eq(users.id, userId)),
      db
        .update(users)
        .set({ isActive: false, updatedAt: now })
        .where(and(eq(users.id, userId), keepsAnAdmin)),
      // Only once the account is inactive: a refused UPDATE (the last admin) leaves no mark.
      db
        .insert(deletions)
        .select(
          db
            .select({ userId: users.id, requestedAt: sql`${now.getTime()}`.as("requested_at"), requestedBy: sql`${requestedBy}`.as("requested_by") })
            .from(users)
            .where(and(eq(users.id, userId), eq(users.isActive, false))),
        )
        .onConflictDoNothing()
        .returning({ userId: deletions.userId }),
      db.select().from(deletions).where(eq(deletions.userId, userId)),
    ]),
  );
  const user = found[0];
  if (!user) return { ok: false, reason: "not_found" };
  if (marks.length === 0) return { ok: false, reason: "last_admin" };
  return { ok: true, user };
}

/** Accounts marked for deletion, oldest first. */
export function listDeletions(db: Db, limit: number): Promise<Deletion[]> {
  return db.select().from(deletions).orderBy(asc(deletions.requestedAt)).limit(limit).all();
}

/** A marked account: the mark, and the row (absent only if the erasure's batch ran). */
export async function findDeletion(db: Db, userId: string): Promise<{ deletion: Deletion; user: User | undefined; identityEmails: string[] } | null> {
  const [marks, found, linked] = await db.batch([
    db.select().from(deletions).where(eq(deletions.userId, userId)),
    db.select().from(users).where(eq(users.id, userId)),
    db.select({ email: identities.email }).from(identities).where(and(eq(identities.userId, userId), isNotNull(identities.email))),
  ]);
  const deletion = marks[0];
  if (!deletion) return null;
  return { deletion, user: found[0], identityEmails: linked.map((r) => r.email!).filter(Boolean) };
}

export type ErasedAudit = typeof auditEvents.$inferInsert;

/** Keys of details that carry an address; removed from every audit row about the user. */
const ADDRESS_KEYS = ["$.email", "$.phone", "$.unverified_email", "$.new_email", "$.old_email", "$.new_phone", "$.old_phone"];

/**
 * Erases the user's rows in one batch: KYC records, identities, passkeys, second factors, sessions,
 * the users row (which frees the email, phone and username), and the mark. Audit rows keep the user
 * id: rows by or about the user lose their IP, user agent and any address in their details, and rows
 * about no account that name one of the user's addresses (a registration started, a failed sign-in)
 * lose the address, IP and user agent. `audit` is written in the same batch.
 */
export async function eraseAccountRows(
  db: Db,
  input: { userId: string; addresses: { emails: string[]; phones: string[] }; audit: ErasedAudit },
): Promise<void> {
  const { userId, addresses, audit } = input;
  const scrubbed = sql`json_remove(${auditEvents.details}, ${sql.join(ADDRESS_KEYS.map((k) => sql`${k}`), sql`, `)})`;
  const namesAnAddress = or(
    addresses.emails.length > 0 ? inArray(sql`json_extract(${auditEvents.details}, '$.email')`, addresses.emails) : undefined,
    addresses.phones.length > 0 ? inArray(sql`json_extract(${auditEvents.details}, '$.phone')`, addresses.phones) : undefined,
  );
  const applications = db.select({ id: kycApplications.id }).from(kycApplications).where(eq(kycApplications.userId, userId));
  await writingUsers(
    [userId],
    db.batch([
      db
        .update(auditEvents)
        .set({ ip: null, userAgent: null, details: scrubbed })
        .where(or(eq(auditEvents.subjectId, userId), eq(auditEvents.actorId, userId), namesAnAddress)),
      db.delete(kycDocuments).where(inArray(kycDocuments.applicationId, applications)),
      db.delete(kycApplications).where(eq(kycApplications.userId, userId)),
      db.delete(identities).where(eq(identities.userId, userId)),
      db.delete(passkeys).where(eq(passkeys.userId, userId)),
      db.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId)),
      db.delete(mfaTotp).where(eq(mfaTotp.userId, userId)),
      db.delete(sessions).where(eq(sessions.userId, userId)),
      db.delete(users).where(eq(users.id, userId)),
      // Once: a second erasure running at the same time finds the mark gone and writes no second row.
      db.insert(auditEvents).select(
        db
          .select({
            id: sql`${audit.id}`.as("id"),
            at: sql`${(audit.at as Date).getTime()}`.as("at"),
            action: sql`${audit.action}`.as("action"),
            actorId: sql`${audit.actorId ?? null}`.as("actor_id"),
            subjectId: sql`${audit.subjectId ?? null}`.as("subject_id"),
            ip: sql`NULL`.as("ip"),
            userAgent: sql`NULL`.as("user_agent"),
            requestId: sql`NULL`.as("request_id"),
            details: sql`${audit.details ?? null}`.as("details"),
          })
          .from(deletions)
          .where(eq(deletions.userId, userId)),
      ),
      db.delete(deletions).where(eq(deletions.userId, userId)),
    ]),
  );
}
