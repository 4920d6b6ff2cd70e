// KYC submissions for tests: files with real magic bytes, the multipart form, the admin decisions,
// and what a submission left in D1 and R2.
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { loadConfig } from "../../src/config";
import type { Deps } from "../../src/domain/deps";
import { KycSubmission, refuseIfOpen } from "../../src/domain/kyc-submission";
import type { DocumentKind } from "../../src/storage/kyc";
import { authed, type Json } from "./http";
import { customerUser } from "./users";

// Real magic bytes: what file-type reads to decide a file's type.

/** PNG signature, a 1×1 IHDR chunk and IEND. */
export const PNG = new Uint8Array([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a,
  0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89,
  0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
]);

/** SOI, a JFIF APP0 segment and EOI. */
export const JPEG = new Uint8Array([
  0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
  0xff, 0xd9,
]);

export const PDF = new TextEncoder().encode("%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n");

export type Part = { bytes: Uint8Array; name?: string; type?: string };

/** A multipart body: `document_type` plus files, each with the name and declared type a client chose. */
export function kycForm(documentType: string | null, files: Record<string, Part>): FormData {
  const form = new FormData();
  if (documentType !== null) form.append("document_type", documentType);
  for (const [field, part] of Object.entries(files)) {
    form.append(field, new Blob([part.bytes], { type: part.type ?? "application/octet-stream" }), part.name ?? `${field}.bin`);
  }
  return form;
}

export function submitKyc(token: string, body: BodyInit): Promise<Response> {
  return authed(token, "/kyc/submit", { method: "POST", body });
}

/** A valid submission: a PNG front, a JPEG back and a PDF selfie. */
export function submitValid(token: string): Promise<Response> {
  return submitKyc(
    token,
    kycForm("passport", {
      front: { bytes: PNG, name: "front.png", type: "image/png" },
      back: { bytes: JPEG, name: "back.jpg", type: "image/jpeg" },
      selfie: { bytes: PDF, name: "selfie.pdf", type: "application/pdf" },
    }),
  );
}

export async function submitOk(token: string): Promise<Json> {
  const res = await submitValid(token);
  expect(res.status).toBe(201);
  return ((await res.json()) as Json).application as Json;
}

/** A customer with a PENDING application (a valid submission). */
export async function pendingApplication() {
  const user = await customerUser();
  const application = await submitOk(user.token);
  return { user, application };
}

export function approve(adminToken: string, applicationId: string): Promise<Response> {
  return authed(adminToken, `/admin/kyc/${applicationId}/approve`, { method: "POST" });
}

export function reject(adminToken: string, applicationId: string, reason: unknown): Promise<Response> {
  return authed(adminToken, `/admin/kyc/${applicationId}/reject`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ reason }),
  });
}

/** Every R2 key under a user's prefix. */
export async function objectKeysOf(userId: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.KYC_BUCKET.list({ prefix: `kyc/${userId}/`, ...(cursor ? { cursor } : {}) });
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys.sort();
}

export async function applicationRowsOf(userId: string): Promise<{ id: string; status: string }[]> {
  const { results } = await env.DB.prepare("SELECT id, status FROM kyc_applications WHERE user_id = ?")
    .bind(userId)
    .all<{ id: string; status: string }>();
  return results;
}

export async function documentCountOf(userId: string): Promise<number> {
  const row = await env.DB.prepare(
    "SELECT COUNT(*) AS n FROM kyc_documents d JOIN kyc_applications a ON a.id = d.application_id WHERE a.user_id = ?",
  )
    .bind(userId)
    .first<{ n: number }>();
  return row!.n;
}

export async function kycStatusColumn(userId: string): Promise<string> {
  const row = await env.DB.prepare("SELECT kyc_status FROM users WHERE id = ?").bind(userId).first<{ kyc_status: string }>();
  return row!.kyc_status;
}

/** A refused submission left nothing behind: no application row, no object, the status unchanged. */
export async function expectNothingStored(userId: string): Promise<void> {
  expect(await applicationRowsOf(userId)).toEqual([]);
  expect(await objectKeysOf(userId)).toEqual([]);
  expect(await kycStatusColumn(userId)).toBe("NOT_SUBMITTED");
}

export const kycConfig = () => loadConfig(env).kyc;

type Put = R2Bucket["put"];

/**
 * `bucket` with `put` going through `intercept`, which is handed the call's arguments and the real
 * put (to fail, hold or count uploads); everything else is the bucket's own.
 */
export function withPut(
  bucket: R2Bucket,
  intercept: (args: Parameters<Put>, put: (...args: Parameters<Put>) => ReturnType<Put>) => ReturnType<Put>,
): R2Bucket {
  return new Proxy(bucket, {
    get(target, prop) {
      if (prop === "put") return (...args: Parameters<Put>) => intercept(args, (...a) => target.put(...a));
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * A submission through the domain, from files at hand, the way the route drives it from the
 * stream: the early check, each file checked and put in turn, then the batch.
 */
export async function submitThroughDomain(
  deps: Deps,
  bucket: R2Bucket,
  userId: string,
  files: { kind: DocumentKind; bytes: Uint8Array }[],
) {
  await refuseIfOpen(deps.db, userId);
  const submission = new KycSubmission(deps, bucket, userId, Date.now());
  try {
    for (const { kind, bytes } of files) await submission.addFile({ kind, chunks: [bytes], size: bytes.byteLength });
    return await submission.commit("passport");
  } catch (err) {
    await submission.abandon();
    throw err;
  }
}
