import { AppError } from "../errors";
import { uniqueViolation } from "../storage/db";
import { decideApplication, findApplicationRow, webhookEventExists } from "../storage/kyc";
import { timingSafeEqual } from "./crypto";
import type { Deps } from "./deps";

export const TIMESTAMP_HEADER = "X-KYC-Timestamp";
export const SIGNATURE_HEADER = "X-KYC-Signature";
/** A signed request is accepted this long before or after its timestamp (replay window). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keys.set(secret, key);
  }
  return key;
}

/** `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`, over the body's bytes as received. */
export async function webhookSignature(secret: string, timestamp: string, body: Uint8Array): Promise<string> {
  const prefix = encoder.encode(`${timestamp}.`);
  const message = new Uint8Array(prefix.length + body.length);
  message.set(prefix);
  message.set(body, prefix.length);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), message));
  return `sha256=${[...mac].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** True only for a well-formed, current timestamp and a matching signature (compared in constant time). */
export async function verifyWebhookSignature(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  body: Uint8Array,
  now: number,
): Promise<boolean> {
  const { timestamp, signature } = headers;
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(now / 1000 - Number(timestamp)) > WEBHOOK_TOLERANCE_SECONDS) return false;
  if (!signature || !/^sha256=[0-9a-fA-F]{64}$/.test(signature)) return false;
  const expected = await webhookSignature(secret, timestamp, body);
  return timingSafeEqual(expected, `sha256=${signature.slice(7).toLowerCase()}`);
}

export type ProviderEvent = {
  id: string;
  type: "kyc.approved" | "kyc.rejected";
  applicationId: string;
  reason: string | null;
};

/**
 * Applies a verified provider event at most once: the event id is inserted in the same D1 batch as
 * the decision, so a replay (even a concurrent one) fails on its primary key and changes nothing.
 * An event for an application already decided is recorded and leaves the application as it is.
 */
export async function applyProviderEvent(
  deps: Deps,
  event: ProviderEvent,
  now: number,
): Promise<{ duplicate: boolean; applied: boolean }> {
  if (await webhookEventExists(deps.db, event.id)) return { duplicate: true, applied: false };
  const application = await findApplicationRow(deps.db, event.applicationId);
  if (!application) throw new AppError("application_not_found");
  const status = event.type === "kyc.approved" ? "APPROVED" : "REJECTED";
  let decided;
  try {
    decided = await decideApplication(
      deps.db,
      {
        applicationId: application.id,
        userId: application.userId,
        status,
        reason: status === "REJECTED" ? event.reason : null,
        decidedBy: `provider:${event.id}`,
        event: { id: event.id, type: event.type },
      },
      new Date(now),
    );
  } catch (err) {
    if (uniqueViolation(err) === "id") return { duplicate: true, applied: false };
    throw err;
  }
  const applied = decided !== undefined;
  const details = { event_id: event.id, type: event.type, application_id: application.id };
  deps.audit({ action: "kyc.webhook_received", actorId: "provider", subjectId: application.userId, details: { ...details, applied } });
  if (applied) {
    deps.audit({
      action: status === "APPROVED" ? "kyc.approved" : "kyc.rejected",
      actorId: "provider",
      subjectId: application.userId,
      details: { ...details, ...(event.reason && status === "REJECTED" ? { reason: event.reason } : {}) },
    });
  }
  return { duplicate: false, applied };
}
