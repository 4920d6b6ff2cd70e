import { fileTypeFromBuffer } from "file-type";
import { AppError, type FieldError } from "../http/errors";
import { uniqueViolation, type Db } from "../storage/db";
import {
  decideApplication,
  findApplicationRow,
  findOpenApplication,
  insertApplication,
  keysWithDocuments,
  latestApplication,
  withDocuments,
  type DocumentKind,
  type DocumentType,
  type KycApplication,
  type KycApplicationWithDocuments,
  type KycDocument,
} from "../storage/kyc";
import { deleteKycObjects, kycObjectKey, listKycObjects, putKycObject } from "../storage/kyc-objects";
import type { Deps } from "./deps";

/** The only document types accepted, as decided from the bytes, and the extension each is served with. */
export const DOCUMENT_MEDIA_TYPES = { "image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf" } as const;
export type DocumentMediaType = keyof typeof DOCUMENT_MEDIA_TYPES;

/** How much of a file is read to decide its type: far more than any signature file-type checks. */
const SNIFF_BYTES = 64 * 1024;

/** Objects younger than this may belong to a submission whose D1 batch has not run yet. */
export const ORPHAN_GRACE_MS = 60 * 60 * 1000;

/**
 * The file's type from its magic bytes (file-type), never from its name or declared type.
 * Anything but JPEG, PNG or PDF (HTML, scripts, executables, archives, APNG, JPEG-LS…) is null.
 */
export async function detectDocumentType(bytes: Uint8Array): Promise<DocumentMediaType | null> {
  const detected = await fileTypeFromBuffer(bytes);
  return detected && detected.mime in DOCUMENT_MEDIA_TYPES ? (detected.mime as DocumentMediaType) : null;
}

export type Upload = { kind: DocumentKind; file: Blob };

/**
 * Checks every file by size and bytes, stores them in R2 under service-built keys, then writes the
 * application, its documents and users.kyc_status in one D1 batch. If an upload or the batch
 * fails, the objects already stored are deleted (the daily sweep catches any that survive that).
 */
export async function submitApplication(
  deps: Deps,
  bucket: R2Bucket,
  input: { userId: string; documentType: DocumentType; uploads: Upload[] },
  now: number,
): Promise<KycApplicationWithDocuments> {
  const { db, config } = deps;
  const checked: { kind: DocumentKind; file: Blob; contentType: DocumentMediaType }[] = [];
  const errors: FieldError[] = [];
  for (const { kind, file } of input.uploads) {
    if (file.size === 0) {
      errors.push({ path: kind, message: "The file is empty" });
      continue;
    }
    if (file.size > config.kyc.maxFileBytes) {
      errors.push({ path: kind, message: `The file is larger than ${config.kyc.maxFileBytes} bytes` });
      continue;
    }
    // Only the head is read here, and the Blob itself goes to R2: no second copy of up to
    // 3 × 10 MiB in a 128 MiB isolate.
    const contentType = await detectDocumentType(new Uint8Array(await file.slice(0, SNIFF_BYTES).arrayBuffer()));
    if (!contentType) {
      errors.push({ path: kind, message: "The file is not a JPEG, PNG or PDF" });
      continue;
    }
    checked.push({ kind, file, contentType });
  }
  if (errors.length > 0) throw new AppError("invalid_document", { errors });

  // Cheap early answer; the partial unique index is what holds under concurrency.
  if (await findOpenApplication(db, input.userId)) throw new AppError("kyc_application_open");

  const at = new Date(now);
  const application: KycApplication = {
    id: crypto.randomUUID(),
    userId: input.userId,
    status: "PENDING",
    documentType: input.documentType,
    rejectionReason: null,
    submittedAt: at,
    decidedAt: null,
    decidedBy: null,
  };
  const documents: KycDocument[] = checked.map((c) => {
    const id = crypto.randomUUID();
    return {
      id,
      applicationId: application.id,
      kind: c.kind,
      contentType: c.contentType,
      size: c.file.size,
      r2Key: kycObjectKey(input.userId, application.id, id),
      createdAt: at,
    };
  });
  const keys = documents.map((d) => d.r2Key);

  const cleanUp = () => deleteKycObjects(bucket, keys).catch((cause) => console.error("kyc: objects left for the sweep", cause));
  // allSettled, not all: a put still in flight must not land after the clean-up.
  const puts = await Promise.allSettled(
    documents.map((d, i) => putKycObject(bucket, d.r2Key, checked[i]!.file, { contentType: d.contentType, size: d.size, kind: d.kind })),
  );
  const failedPut = puts.find((p) => p.status === "rejected");
  if (failedPut) {
    await cleanUp();
    throw failedPut.reason;
  }
  try {
    await insertApplication(db, application, documents, at);
  } catch (err) {
    const committed = await committedAnyway(db, application.id, err);
    if (committed !== true) {
      // Unknown: keep the objects; if no row ever names them, the sweep deletes them.
      if (committed === false) await cleanUp();
      if (uniqueViolation(err) === "user_id") throw new AppError("kyc_application_open", { cause: err });
      throw err;
    }
  }
  deps.audit({
    action: "kyc.submitted",
    actorId: input.userId,
    details: { application_id: application.id, document_type: input.documentType, documents: documents.length },
  });
  return { ...application, documents };
}

/** A D1 error can arrive after the transaction committed, when the objects must stay; null: unknown. */
async function committedAnyway(db: Db, applicationId: string, err: unknown): Promise<boolean | null> {
  if (uniqueViolation(err)) return false;
  try {
    return (await findApplicationRow(db, applicationId)) !== undefined;
  } catch {
    return null;
  }
}

export type KycStatusView = {
  status: "NOT_SUBMITTED" | KycApplication["status"];
  application: KycApplicationWithDocuments | null;
  rejectionReason: string | null;
};

/** The user's latest application, if any. */
export async function kycStatusOf(db: Db, userId: string): Promise<KycStatusView> {
  const latest = await latestApplication(db, userId);
  if (!latest) return { status: "NOT_SUBMITTED", application: null, rejectionReason: null };
  return { status: latest.status, application: await withDocuments(db, latest), rejectionReason: latest.rejectionReason };
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

/**
 * Deletes objects under `kyc/` uploaded more than `graceMs` before `now` that no kyc_documents row
 * names: uploads whose D1 batch failed or never ran and whose clean-up failed too.
 */
export async function sweepOrphanKycObjects(
  store: { db: Db; bucket: R2Bucket },
  now: number,
  graceMs = ORPHAN_GRACE_MS,
): Promise<{ scanned: number; deleted: number }> {
  let scanned = 0;
  let deleted = 0;
  let cursor: string | undefined;
  do {
    const page = await listKycObjects(store.bucket, cursor);
    cursor = page.cursor;
    scanned += page.objects.length;
    const old = page.objects.filter((o) => o.uploaded.getTime() < now - graceMs).map((o) => o.key);
    if (old.length === 0) continue;
    const kept = await keysWithDocuments(store.db, old);
    const orphans = old.filter((key) => !kept.has(key));
    await deleteKycObjects(store.bucket, orphans);
    deleted += orphans.length;
  } while (cursor);
  return { scanned, deleted };
}
