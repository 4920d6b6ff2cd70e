import type { Db } from "../storage/db";
import { keysWithDocuments, latestApplication, withDocuments, type KycApplicationWithDocuments } from "../storage/kyc";
import { deleteKycObjects, listKycObjects, readSweepMark, writeSweepMark } from "../storage/kyc-objects";
import type { Deps } from "./deps";
import type { UserKycStatus } from "./kyc-values";

/** The only document types accepted, as decided from the bytes, and the extension each is served with. */
export const DOCUMENT_MEDIA_TYPES = { "image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf" } as const;
export type DocumentMediaType = keyof typeof DOCUMENT_MEDIA_TYPES;

/**
 * Pages of 1000 objects one daily sweep reads: each costs one R2 list and up to 12 D1 queries, and a
 * cron invocation's subrequests are limited (docs/operations.md). A longer listing goes on the next day.
 */
export const SWEEP_PAGES_PER_RUN = 20;

/** Objects younger than this may belong to a submission whose D1 batch has not run yet. */
export const ORPHAN_GRACE_MS = 60 * 60 * 1000;

/**
 * The file's type from its magic bytes (file-type), never from its name or declared type.
 * Anything but JPEG, PNG or PDF (HTML, scripts, executables, archives, APNG, JPEG-LS…) is null.
 */
export async function detectDocumentType(bytes: Uint8Array): Promise<DocumentMediaType | null> {
  // Loaded on the first upload: file-type and its tokenizer stay out of cold start.
  const { fileTypeFromBuffer } = await import("file-type");
  const detected = await fileTypeFromBuffer(bytes);
  return detected && detected.mime in DOCUMENT_MEDIA_TYPES ? (detected.mime as DocumentMediaType) : null;
}

export type KycStatusView = {
  status: UserKycStatus;
  application: KycApplicationWithDocuments | null;
  rejectionReason: string | null;
};

/** The user's latest application, if any. */
export async function kycStatusOf(deps: Deps, userId: string): Promise<KycStatusView> {
  const latest = await latestApplication(deps.db, userId);
  if (!latest) return { status: "NOT_SUBMITTED", application: null, rejectionReason: null };
  return { status: latest.status, application: await withDocuments(deps.db, latest), rejectionReason: latest.rejectionReason };
}

/**
 * Deletes objects under `kyc/` uploaded more than `graceMs` before `now` that no kyc_documents row
 * names: uploads whose D1 batch failed or never ran and whose clean-up failed too. Reads at most
 * `maxPages` pages of the listing, from where the last run stopped (a mark in KV), so a bucket of any
 * size is swept over as many days as it needs; `finished` says whether this run reached the end.
 */
export async function sweepOrphanKycObjects(
  store: { db: Db; bucket: R2Bucket; kv: KVNamespace },
  now: number,
  { graceMs = ORPHAN_GRACE_MS, maxPages = SWEEP_PAGES_PER_RUN }: { graceMs?: number; maxPages?: number } = {},
): Promise<{ scanned: number; deleted: number; finished: boolean }> {
  let scanned = 0;
  let deleted = 0;
  let after = await readSweepMark(store.kv);
  for (let pages = 0; pages < maxPages; pages++) {
    const page = await listKycObjects(store.bucket, after);
    scanned += page.objects.length;
    const old = page.objects.filter((o) => o.uploaded.getTime() < now - graceMs).map((o) => o.key);
    if (old.length > 0) {
      const kept = await keysWithDocuments(store.db, old);
      const orphans = old.filter((key) => !kept.has(key));
      await deleteKycObjects(store.bucket, orphans);
      deleted += orphans.length;
    }
    after = page.next;
    if (after === undefined) break;
  }
  // Stopped early: the next run goes on from here; otherwise the next one starts from the top.
  await writeSweepMark(store.kv, after);
  return { scanned, deleted, finished: after === undefined };
}
