import { AppError } from "../errors";
import {
  decideApplication,
  findApplicationRow,
  findDocument,
  findUserSummary,
  listApplications,
  withDocuments,
  type KycApplication,
  type KycApplicationWithDocuments,
  type KycDocument,
  type KycListItem,
  type KycUserSummary,
} from "../storage/kyc";
import { getKycObject } from "../storage/kyc-objects";
import type { Deps } from "./deps";
import { DOCUMENT_MEDIA_TYPES, type DocumentMediaType } from "./kyc";
import type { KycStatus } from "./kyc-values";
import { readPage, type Page } from "./pagination";

// The admin's side of KYC: the queue of applications, one application with its applicant, its
// documents' bytes, and the decision.

/** An application as an admin weighs it: its documents and its applicant's proved identifiers. */
export type ApplicationReview = { application: KycApplicationWithDocuments; applicant: KycUserSummary };

/** A page of applications in one status, oldest first (the queue order). */
export function listApplicationsForReview(
  deps: Deps,
  input: { status: KycStatus; cursor: string | null; limit: number },
): Promise<Page<KycListItem>> {
  return readPage(
    input,
    (after, limit) => listApplications(deps.db, { status: input.status, after, limit }),
    (a) => ({ at: a.submittedAt, id: a.id }),
  );
}

export async function findApplicationReview(deps: Deps, applicationId: string): Promise<ApplicationReview> {
  const application = await findApplicationRow(deps.db, applicationId);
  if (!application) throw new AppError("application_not_found");
  return reviewOf(deps, application);
}

export async function reviewOf(deps: Deps, application: KycApplication): Promise<ApplicationReview> {
  const [full, applicant] = await Promise.all([withDocuments(deps.db, application), findUserSummary(deps.db, application.userId)]);
  if (!applicant) throw new AppError("application_not_found");
  return { application: full, applicant };
}

/** A document of an application with its stored bytes, and the extension it is served with. */
export async function openDocument(
  deps: Deps,
  bucket: R2Bucket,
  ids: { applicationId: string; documentId: string },
): Promise<{ document: KycDocument; object: R2ObjectBody; extension: string }> {
  const document = await findDocument(deps.db, ids.applicationId, ids.documentId);
  if (!document) throw new AppError("document_not_found");
  const object = await getKycObject(bucket, document.r2Key);
  if (!object) {
    console.error(JSON.stringify({ level: "error", event: "kyc_object_missing", document_id: document.id }));
    throw new AppError("document_not_found");
  }
  return { document, object, extension: DOCUMENT_MEDIA_TYPES[document.contentType as DocumentMediaType] ?? "bin" };
}

/** An admin's decision on a PENDING application; a second decision is 409 already_decided. */
export async function decideAsAdmin(
  deps: Deps,
  input: { applicationId: string; adminId: string; decision: "APPROVED" | "REJECTED"; reason: string | null },
  now: number,
): Promise<KycApplication> {
  const application = await findApplicationRow(deps.db, input.applicationId);
  if (!application) throw new AppError("application_not_found");
  // Separation of duties: no one approves their own identity.
  if (application.userId === input.adminId) throw new AppError("forbidden", { detail: "You cannot decide your own application" });
  if (application.status !== "PENDING") throw new AppError("already_decided");
  const decided = await decideApplication(
    deps.db,
    {
      applicationId: application.id,
      userId: application.userId,
      status: input.decision,
      reason: input.reason,
      decidedBy: input.adminId,
    },
    new Date(now),
  );
  if (!decided) throw new AppError("already_decided");
  deps.audit({
    action: input.decision === "APPROVED" ? "kyc.approved" : "kyc.rejected",
    actorId: input.adminId,
    subjectId: application.userId,
    details: { application_id: application.id, ...(input.reason ? { reason: input.reason } : {}) },
  });
  return decided;
}
