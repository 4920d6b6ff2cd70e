import { AppError, type FieldError } from "../errors";
import { uniqueViolation, type Db } from "../storage/db";
import {
  findApplicationRow,
  findOpenApplication,
  insertApplication,
  type KycApplication,
  type KycApplicationWithDocuments,
  type KycDocument,
} from "../storage/kyc";
import { deleteKycObjects, kycObjectKey, putKycObject } from "../storage/kyc-objects";
import { userSubject, type Deps } from "./deps";
import { detectDocumentType } from "./kyc";
import { DOCUMENT_KINDS, type DocumentKind, type DocumentType } from "./kyc-values";

/** How much of a file is read to decide its type: far more than any signature file-type checks. */
const SNIFF_BYTES = 64 * 1024;

/** How long an upload holds the user's slot if its request dies before giving it back. */
export const UPLOAD_SLOT_MS = 2 * 60 * 1000;

/** What a refused concurrent upload is told to wait: the one in flight usually answers within seconds. */
const UPLOAD_RETRY_AFTER_MS = 5_000;

/** A file as it was received: its bytes in the chunks they arrived in. */
export type Upload = { kind: DocumentKind; chunks: Uint8Array[]; size: number };

/**
 * Runs `work` holding the user's one KYC upload slot in their Durable Object, where two claims
 * cannot race: a second upload while one is in flight is 429 `rate_limited`, so one user can
 * never have more than one upload's worth of memory in the isolate.
 */
export async function withUploadSlot<T>(deps: Deps, userId: string, now: number, work: () => Promise<T>): Promise<T> {
  const subject = userSubject(deps, userId);
  const holder = crypto.randomUUID();
  const claim = await subject.claimUpload({ holder, now, ms: UPLOAD_SLOT_MS });
  if (!claim.ok) {
    throw new AppError("rate_limited", {
      detail: "Another KYC upload of yours is in progress",
      retryAfter: Math.min(claim.retryAfterMs, UPLOAD_RETRY_AFTER_MS) / 1000,
    });
  }
  try {
    return await work();
  } finally {
    await subject.releaseUpload({ holder }).catch((cause) => console.error("kyc: upload slot left to expire", cause));
  }
}

/** A cheap answer before any byte is read; the partial unique index is what holds under concurrency. */
export async function refuseIfOpen(db: Db, userId: string): Promise<void> {
  if (await findOpenApplication(db, userId)) throw new AppError("kyc_application_open");
}

/**
 * One submission as its files arrive. Each file is checked by its size and bytes and, while the
 * submission is clean, put in R2 at once under a service-built key, so no more than one file is
 * ever held. `commit` then writes the application, its documents and users.kyc_status in one D1
 * batch; a submission refused or failed on the way is `abandon`ed, which deletes its objects (the
 * daily sweep catches any that survive that).
 */
export class KycSubmission {
  readonly errors: FieldError[] = [];
  readonly #documents: KycDocument[] = [];
  readonly #applicationId = crypto.randomUUID();
  readonly #at: Date;
  #committing = false;

  constructor(
    private readonly deps: Deps,
    private readonly bucket: R2Bucket,
    private readonly userId: string,
    now: number,
  ) {
    this.#at = new Date(now);
  }

  async addFile({ kind, chunks, size }: Upload): Promise<void> {
    const max = this.deps.config.kyc.maxFileBytes;
    if (size === 0) return this.refuse(kind, "The file is empty");
    if (size > max) return this.refuse(kind, `The file is larger than ${max} bytes`);
    const contentType = await detectDocumentType(head(chunks, SNIFF_BYTES));
    if (!contentType) return this.refuse(kind, "The file is not a JPEG, PNG or PDF");
    // A refused submission stores nothing more; what it stored before goes in abandon().
    if (this.errors.length > 0) return;
    const id = crypto.randomUUID();
    const document: KycDocument = {
      id,
      applicationId: this.#applicationId,
      kind,
      contentType,
      size,
      r2Key: kycObjectKey(this.userId, this.#applicationId, id),
      createdAt: this.#at,
    };
    // Recorded before the put, so that a put failing halfway is deleted too.
    this.#documents.push(document);
    await putKycObject(this.bucket, document.r2Key, chunks, { contentType, size, kind });
  }

  /** Marks a file as bad; the submission is then refused with 400 invalid_document naming it. */
  refuse(path: string, message: string): void {
    this.errors.push({ path, message });
  }

  async commit(documentType: DocumentType): Promise<KycApplicationWithDocuments> {
    if (this.errors.length > 0) throw new AppError("invalid_document", { errors: this.errors });
    this.#committing = true;
    const { db } = this.deps;
    const application: KycApplication = {
      id: this.#applicationId,
      userId: this.userId,
      status: "PENDING",
      documentType,
      rejectionReason: null,
      submittedAt: this.#at,
      decidedAt: null,
      decidedBy: null,
    };
    const documents = [...this.#documents].sort((a, b) => DOCUMENT_KINDS.indexOf(a.kind) - DOCUMENT_KINDS.indexOf(b.kind));
    try {
      await insertApplication(db, application, documents, this.#at);
    } catch (err) {
      const committed = await committedAnyway(db, application.id, err);
      if (committed !== true) {
        // Unknown: keep the objects; if no row ever names them, the sweep deletes them.
        if (committed === false) await this.#deleteObjects();
        if (uniqueViolation(err) === "user_id") throw new AppError("kyc_application_open", { cause: err });
        throw err;
      }
    }
    this.deps.audit({
      action: "kyc.submitted",
      actorId: this.userId,
      details: { application_id: application.id, document_type: documentType, documents: documents.length },
    });
    return { ...application, documents };
  }

  /** Deletes what a refused or failed submission stored; once commit has begun, it decides that itself. */
  async abandon(): Promise<void> {
    if (!this.#committing) await this.#deleteObjects();
  }

  #deleteObjects(): Promise<void> {
    const keys = this.#documents.map((d) => d.r2Key);
    return deleteKycObjects(this.bucket, keys).catch((cause) => console.error("kyc: objects left for the sweep", cause));
  }
}

/** The first `n` bytes of a file held as chunks. */
function head(chunks: Uint8Array[], n: number): Uint8Array {
  const first = chunks[0] ?? new Uint8Array(0);
  if (first.byteLength >= n || chunks.length === 1) return first.subarray(0, n);
  const out = new Uint8Array(Math.min(n, chunks.reduce((sum, c) => sum + c.byteLength, 0)));
  let offset = 0;
  for (const chunk of chunks) {
    if (offset >= out.byteLength) break;
    const piece = chunk.subarray(0, out.byteLength - offset);
    out.set(piece, offset);
    offset += piece.byteLength;
  }
  return out;
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
