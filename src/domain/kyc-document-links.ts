import { AppError } from "../errors";
import { kycDocumentOwner } from "../storage/account-export";
import { base64url, hmacHex, hmacSha256, timingSafeEqual } from "./crypto";
import type { Deps } from "./deps";
import { openDocument } from "./kyc-review";

// Links to a user's own KYC documents, handed out in their account export: a capability that works
// for 10 minutes without a bearer token (a browser download cannot send one). The signature is an
// HMAC over the document id, its owner's id and the expiry, so a link names one document of one
// user and no edit of it (another document, a later expiry) verifies.

export const KYC_LINK_TTL_SECONDS = 600;

const PURPOSE = "kyc-document-link/v1";
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;

/** A key of its own, derived from CODE_HMAC_SECRET: a link's MAC can never stand for a code's. */
function linkKey(deps: Deps): Promise<string> {
  return hmacHex(deps.config.codeSecret, PURPOSE);
}

async function signature(deps: Deps, documentId: string, userId: string, expires: number): Promise<string> {
  return base64url(await hmacSha256(await linkKey(deps), `${PURPOSE}\u0000${documentId}\u0000${userId}\u0000${expires}`));
}

export type DocumentLink = { url: string; expiresAt: Date };

/** The download link of one of the user's documents, valid until `now` + 10 minutes (whole seconds). */
export async function signDocumentLink(deps: Deps, input: { documentId: string; userId: string }, now: number): Promise<DocumentLink> {
  const expires = Math.floor(now / 1000) + KYC_LINK_TTL_SECONDS;
  const sig = await signature(deps, input.documentId, input.userId, expires);
  const query = new URLSearchParams({ expires: String(expires), sig });
  return {
    url: `${deps.config.publicBaseUrl}/api/v1/users/me/export/kyc-documents/${input.documentId}?${query}`,
    expiresAt: new Date(expires * 1000),
  };
}

/**
 * The document a link names, with its bytes: only while the link lives, and only if its signature is
 * the one made for this document and its owner. Every refusal is the same 403 invalid_download_link
 * (an unknown document included), so the answer does not tell which check failed.
 */
export async function openLinkedDocument(
  deps: Deps,
  bucket: R2Bucket,
  input: { documentId: string; expires: number; sig: string },
  now: number,
) {
  const owner = await kycDocumentOwner(deps.db, input.documentId);
  // Computed whether or not the document exists, so both take the same time.
  const expected = await signature(deps, input.documentId, owner?.userId ?? "", input.expires);
  const signed = SIGNATURE.test(input.sig) && timingSafeEqual(expected, input.sig);
  const expiresMs = input.expires * 1000;
  // An expiry further away than a link is ever given is not one this service signed today.
  const live = expiresMs > now && expiresMs <= now + KYC_LINK_TTL_SECONDS * 1000;
  if (!owner || !signed || !live) throw new AppError("invalid_download_link");
  const opened = await openDocument(deps, bucket, { applicationId: owner.applicationId, documentId: input.documentId });
  deps.audit({
    action: "kyc.document_downloaded",
    actorId: owner.userId,
    details: { application_id: owner.applicationId, document_id: input.documentId, via: "export_link" },
  });
  return opened;
}
