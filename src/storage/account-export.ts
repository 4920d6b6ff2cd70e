import { and, asc, desc, eq, inArray, isNull, lt, ne, or } from "drizzle-orm";
import type { Db } from "./db";
import { DOCUMENT_KINDS, type DocumentKind } from "../domain/kyc-values";
import type { Position } from "../domain/pagination";
import { auditEvents, identities, kycApplications, kycDocuments, mfaRecoveryCodes, mfaTotp, sessions } from "./schema";
import type { AuditEventRow } from "./audit";
import type { Identity } from "./identities";
import type { KycApplicationWithDocuments } from "./kyc";
import type { Session } from "./sessions";

// The reads behind an account export (src/domain/account-export.ts): every row a user has, by table.
// Each selects only what may leave the service: no query here reads a secret column (the TOTP
// ciphertext, recovery-code hashes, R2 keys), so no later change to a presenter can leak one.

export async function identitiesOf(db: Db, userId: string): Promise<Identity[]> {
  return db.select().from(identities).where(eq(identities.userId, userId)).orderBy(asc(identities.createdAt)).all();
}

/** Every session row of the user, ended ones included (D1 keeps them until the account goes). */
export async function allSessionsOf(db: Db, userId: string): Promise<Session[]> {
  return db.select().from(sessions).where(eq(sessions.userId, userId)).orderBy(desc(sessions.createdAt), asc(sessions.id)).all();
}

export type SecondFactorFacts = {
  totp: { confirmedAt: Date | null; createdAt: Date } | null;
  recoveryCodes: { left: number; used: number; createdAt: Date | null };
};

/** Whether TOTP is on and since when, and how many recovery codes are left: never the secret or a hash. */
export async function secondFactorFactsOf(db: Db, userId: string): Promise<SecondFactorFacts> {
  const [totp, codes] = await db.batch([
    db.select({ confirmedAt: mfaTotp.confirmedAt, createdAt: mfaTotp.createdAt }).from(mfaTotp).where(eq(mfaTotp.userId, userId)),
    db.select({ usedAt: mfaRecoveryCodes.usedAt, createdAt: mfaRecoveryCodes.createdAt }).from(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId)),
  ]);
  return {
    totp: totp[0] ?? null,
    recoveryCodes: {
      left: codes.filter((c) => c.usedAt === null).length,
      used: codes.filter((c) => c.usedAt !== null).length,
      createdAt: codes[0]?.createdAt ?? null,
    },
  };
}

export type ExportedDocument = Omit<KycApplicationWithDocuments["documents"][number], "r2Key">;
export type ExportedApplication = Omit<KycApplicationWithDocuments, "documents"> & { documents: ExportedDocument[] };

/** Every KYC application of the user, oldest first, with its documents' metadata in kind order (not their R2 keys). */
export async function kycApplicationsOf(db: Db, userId: string): Promise<ExportedApplication[]> {
  const applications = await db
    .select()
    .from(kycApplications)
    .where(eq(kycApplications.userId, userId))
    .orderBy(asc(kycApplications.submittedAt), asc(kycApplications.id))
    .all();
  if (applications.length === 0) return [];
  const documents = await db
    .select({
      id: kycDocuments.id,
      applicationId: kycDocuments.applicationId,
      kind: kycDocuments.kind,
      contentType: kycDocuments.contentType,
      size: kycDocuments.size,
      createdAt: kycDocuments.createdAt,
    })
    .from(kycDocuments)
    .where(inArray(kycDocuments.applicationId, applications.map((a) => a.id)))
    .orderBy(asc(kycDocuments.createdAt), asc(kycDocuments.id))
    .all();
  const order = (kind: string) => DOCUMENT_KINDS.indexOf(kind as DocumentKind);
  documents.sort((a, b) => order(a.kind) - order(b.kind));
  return applications.map((a) => ({ ...a, documents: documents.filter((d) => d.applicationId === a.id) }));
}

/** The owner of a KYC document, found through its application; undefined when there is no such document. */
export async function kycDocumentOwner(db: Db, documentId: string): Promise<{ userId: string; applicationId: string } | undefined> {
  return db
    .select({ userId: kycApplications.userId, applicationId: kycApplications.id })
    .from(kycDocuments)
    .innerJoin(kycApplications, eq(kycApplications.id, kycDocuments.applicationId))
    .where(eq(kycDocuments.id, documentId))
    .get();
}

/**
 * Audit events about the user (subject) or by them (actor), newest first, `limit` rows after
 * `after`. The subject half uses audit_subject_idx; the actor half (an admin's actions on others)
 * has no index of its own and scans, which an export, rare and per user, can afford.
 */
export async function auditEventsInvolving(db: Db, userId: string, after: Position | null, limit: number): Promise<AuditEventRow[]> {
  const position = after
    ? or(lt(auditEvents.at, after.at), and(eq(auditEvents.at, after.at), lt(auditEvents.id, after.id)))
    : undefined;
  return db
    .select()
    .from(auditEvents)
    .where(and(or(eq(auditEvents.subjectId, userId), and(eq(auditEvents.actorId, userId), or(isNull(auditEvents.subjectId), ne(auditEvents.subjectId, userId)))), position))
    .orderBy(desc(auditEvents.at), desc(auditEvents.id))
    .limit(limit)
    .all();
}
