import { and, asc, desc, eq, gt, inArray, or, sql } from "drizzle-orm";
import type { Db } from "./db";
import { writingUsers } from "./hot-cache";
import { DOCUMENT_KINDS, type DocumentKind, type KycStatus, type UserKycStatus } from "../domain/kyc-values";
import type { Position } from "../domain/pagination";
import type { Role } from "../domain/roles";
import { kycApplications, kycDocuments, users, webhookEvents } from "./schema";

export type { DocumentKind, DocumentType, KycStatus } from "../domain/kyc-values";
export type KycApplication = typeof kycApplications.$inferSelect;
export type KycDocument = typeof kycDocuments.$inferSelect;
export type KycApplicationWithDocuments = KycApplication & { documents: KycDocument[] };
export type KycUserSummary = {
  id: string;
  email: string | null;
  phone: string | null;
  unverifiedEmail: string | null;
  fullName: string | null;
  role: Role;
  kycStatus: UserKycStatus;
};
export type KycListItem = KycApplication & { user: KycUserSummary };

// An admin weighs an application against the applicant's identifiers: only proved ones are theirs.
// An address typed at phone sign-up may be anyone's, so it stays apart, named as unproved.
const userSummary = {
  id: users.id,
  email: sql<string | null>`CASE WHEN ${users.isEmailVerified} THEN ${users.email} END`,
  phone: sql<string | null>`CASE WHEN ${users.isPhoneVerified} THEN ${users.phone} END`,
  unverifiedEmail: users.unverifiedEmail,
  fullName: users.fullName,
  role: users.role,
  kycStatus: users.kycStatus,
};

/**
 * users.kyc_status recomputed from the applications themselves, so it is right whatever order
 * concurrent writes land in: the open (PENDING or APPROVED) one, of which the partial unique index
 * allows one, else REJECTED if any exists, else NOT_SUBMITTED.
 */
function syncUserKycStatus(db: Db, userId: string, now: Date) {
  return db
    .update(users)
    .set({
      kycStatus: sql`COALESCE(
        (SELECT status FROM kyc_applications WHERE user_id = ${userId} AND status IN ('PENDING', 'APPROVED')),
        CASE WHEN EXISTS (SELECT 1 FROM kyc_applications WHERE user_id = ${userId}) THEN 'REJECTED' ELSE 'NOT_SUBMITTED' END
      )`,
      updatedAt: now,
    })
    .where(eq(users.id, userId));
}

export async function findOpenApplication(db: Db, userId: string): Promise<KycApplication | undefined> {
  return db
    .select()
    .from(kycApplications)
    .where(and(eq(kycApplications.userId, userId), inArray(kycApplications.status, ["PENDING", "APPROVED"])))
    .get();
}

/**
 * The application, its documents and the user's status in one transaction. Throws a unique
 * violation on `user_id` when the user already has a PENDING or APPROVED application.
 */
export async function insertApplication(db: Db, application: KycApplication, documents: KycDocument[], now: Date): Promise<void> {
  await writingUsers(
    [application.userId],
    db.batch([
      db.insert(kycApplications).values(application),
      db.insert(kycDocuments).values(documents),
      syncUserKycStatus(db, application.userId, now),
    ]),
  );
}

export async function findApplicationRow(db: Db, id: string): Promise<KycApplication | undefined> {
  return db.select().from(kycApplications).where(eq(kycApplications.id, id)).get();
}

export async function withDocuments(db: Db, application: KycApplication): Promise<KycApplicationWithDocuments> {
  const documents = await db
    .select()
    .from(kycDocuments)
    .where(eq(kycDocuments.applicationId, application.id))
    .orderBy(asc(kycDocuments.createdAt), asc(kycDocuments.id))
    .all();
  const order = (kind: string) => DOCUMENT_KINDS.indexOf(kind as DocumentKind);
  return { ...application, documents: documents.sort((a, b) => order(a.kind) - order(b.kind)) };
}

export async function latestApplication(db: Db, userId: string): Promise<KycApplication | undefined> {
  return db
    .select()
    .from(kycApplications)
    .where(eq(kycApplications.userId, userId))
    .orderBy(desc(kycApplications.submittedAt), desc(kycApplications.id))
    .get();
}

export async function findUserSummary(db: Db, userId: string): Promise<KycUserSummary | undefined> {
  return db.select(userSummary).from(users).where(eq(users.id, userId)).get();
}

/** A page in (submitted_at, id) order, oldest first, strictly after `after`. */
export async function listApplications(
  db: Db,
  query: { status: KycStatus; after: Position | null; limit: number },
): Promise<KycListItem[]> {
  const { after } = query;
  const rows = await db
    .select({ application: kycApplications, user: userSummary })
    .from(kycApplications)
    .innerJoin(users, eq(users.id, kycApplications.userId))
    .where(
      and(
        eq(kycApplications.status, query.status),
        after
          ? or(
              gt(kycApplications.submittedAt, after.at),
              and(eq(kycApplications.submittedAt, after.at), gt(kycApplications.id, after.id)),
            )
          : undefined,
      ),
    )
    .orderBy(asc(kycApplications.submittedAt), asc(kycApplications.id))
    .limit(query.limit)
    .all();
  return rows.map((r) => ({ ...r.application, user: r.user }));
}

export async function findDocument(db: Db, applicationId: string, documentId: string): Promise<KycDocument | undefined> {
  return db
    .select()
    .from(kycDocuments)
    .where(and(eq(kycDocuments.id, documentId), eq(kycDocuments.applicationId, applicationId)))
    .get();
}

export type Decision = {
  applicationId: string;
  userId: string;
  status: "APPROVED" | "REJECTED";
  reason: string | null;
  decidedBy: string;
  /** A provider event, recorded in the same transaction: a replay then fails on its primary key. */
  event?: { id: string; type: string };
};

/**
 * Decides a PENDING application and syncs the user's status in one transaction. Returns the
 * decided row, or undefined when the application was no longer PENDING (someone decided first).
 */
export async function decideApplication(db: Db, d: Decision, now: Date): Promise<KycApplication | undefined> {
  const update = db
    .update(kycApplications)
    .set({ status: d.status, rejectionReason: d.reason, decidedAt: now, decidedBy: d.decidedBy })
    .where(and(eq(kycApplications.id, d.applicationId), eq(kycApplications.status, "PENDING")))
    .returning();
  const sync = syncUserKycStatus(db, d.userId, now);
  if (d.event) {
    const [, decided] = await writingUsers(
      [d.userId],
      db.batch([db.insert(webhookEvents).values({ id: d.event.id, type: d.event.type, receivedAt: now }), update, sync]),
    );
    return decided[0];
  }
  const [decided] = await writingUsers([d.userId], db.batch([update, sync]));
  return decided[0];
}

export async function webhookEventExists(db: Db, id: string): Promise<boolean> {
  return (await db.select({ id: webhookEvents.id }).from(webhookEvents).where(eq(webhookEvents.id, id)).get()) !== undefined;
}

/** Which of these R2 keys have a kyc_documents row (D1 binds at most 100 parameters a statement). */
export async function keysWithDocuments(db: Db, keys: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < keys.length; i += 90) {
    const rows = await db
      .select({ key: kycDocuments.r2Key })
      .from(kycDocuments)
      .where(inArray(kycDocuments.r2Key, keys.slice(i, i + 90)))
      .all();
    for (const r of rows) found.add(r.key);
  }
  return found;
}
