// Every JSON shape that leaves the service, built from domain types: the one place a field is named
// or formatted for the wire. The zod schemas in src/http/ describe these shapes in /openapi.json; the
// domain uses this module too (a sign-in answers with the user), so it imports nothing from http/.

import type { KycStatusView, DocumentMediaType } from "./domain/kyc";
import type { ApplicationReview } from "./domain/kyc-review";
import type { OtpSent } from "./domain/phone-otp";
import type { AuditEventRow } from "./storage/audit";
import type { KycApplication, KycApplicationWithDocuments, KycListItem, KycUserSummary } from "./storage/kyc";
import type { Session } from "./storage/sessions";
import type { User } from "./storage/users";

/** `User` in /openapi.json. An address given without proof is shown to its owner as their email. */
export function presentUser(u: User) {
  return {
    id: u.id,
    email: u.email ?? u.unverifiedEmail,
    username: u.username,
    phone: u.phone,
    full_name: u.fullName,
    first_name: u.firstName,
    last_name: u.lastName,
    role: u.role,
    is_email_verified: u.isEmailVerified,
    is_phone_verified: u.isPhoneVerified,
    kyc_status: u.kycStatus,
    profile_picture: u.profilePicture,
    created_at: u.createdAt.toISOString(),
  };
}

/** `AdminUser`: the public shape plus whether the account may sign in. */
export function presentAdminUser(u: User) {
  return { ...presentUser(u), is_active: u.isActive };
}

/** What a session shows of itself, in the session list and in the account export. */
export function sessionFields(s: Session) {
  return {
    id: s.id,
    device_id: s.deviceId,
    device_name: s.deviceName,
    user_agent: s.userAgent,
    ip: s.ip,
    created_at: s.createdAt.toISOString(),
    last_used_at: s.lastUsedAt.toISOString(),
  };
}

/** `Session`: one of the user's sessions; `current` marks the one the request came with. */
export function presentSession(s: Session, currentSessionId: string) {
  return { ...sessionFields(s), current: s.id === currentSessionId };
}

/** A page of a listing: the items under their name, and the cursor of the next page (null on the last). */
export function presentPage<K extends string, T>(name: K, items: T[], nextCursor: string | null) {
  return { [name]: items, next_cursor: nextCursor } as { [P in K]: T[] } & { next_cursor: string | null };
}

function applicationFields(a: KycApplication) {
  return {
    id: a.id,
    status: a.status,
    document_type: a.documentType,
    submitted_at: a.submittedAt.toISOString(),
    decided_at: a.decidedAt ? a.decidedAt.toISOString() : null,
    rejection_reason: a.rejectionReason,
  };
}

/** `KycApplication`, with its documents (`KycDocument`) in kind order. */
export function presentApplication(a: KycApplicationWithDocuments) {
  const { submitted_at, decided_at, rejection_reason, ...head } = applicationFields(a);
  return {
    ...head,
    documents: a.documents.map((d) => ({
      id: d.id,
      kind: d.kind,
      content_type: d.contentType as DocumentMediaType,
      size: d.size,
    })),
    submitted_at,
    decided_at,
    rejection_reason,
  };
}

/** `KycUserSummary`: only proved identifiers name the applicant; a typed address stays apart. */
function presentApplicant(u: KycUserSummary) {
  return {
    id: u.id,
    email: u.email,
    phone: u.phone,
    unverified_email: u.unverifiedEmail,
    full_name: u.fullName,
    role: u.role,
    kyc_status: u.kycStatus,
  };
}

/** `AdminKycApplication`: the application with who decided it and its applicant. */
export function presentApplicationReview({ application, applicant }: ApplicationReview) {
  return { ...presentApplication(application), decided_by: application.decidedBy, user: presentApplicant(applicant) };
}

/** `AdminKycListItem`: as above, without the documents. */
export function presentAdminListItem(a: KycListItem) {
  return { ...applicationFields(a), decided_by: a.decidedBy, user: presentApplicant(a.user) };
}

/** The answer of GET /kyc/status. */
export function presentKycStatus(view: KycStatusView) {
  return {
    status: view.status,
    application: view.application ? presentApplication(view.application) : null,
    rejection_reason: view.rejectionReason,
  };
}

/** `AuditEvent`. Details are stored as JSON text; anything that is not an object is wrapped in one. */
export function presentAuditEvent(row: AuditEventRow) {
  return {
    id: row.id,
    at: row.at.toISOString(),
    action: row.action,
    actor_id: row.actorId,
    subject_id: row.subjectId,
    ip: row.ip,
    user_agent: row.userAgent,
    request_id: row.requestId,
    details: parseDetails(row.details),
  };
}

/** An audit row's details as an object (also for the account export). */
export function parseDetails(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
  } catch {
    return { value: text };
  }
}

/** `OtpSent`. The code itself only where the domain gave it (development). */
export function presentOtpSent(sent: OtpSent) {
  return {
    success: true as const,
    message: "OTP sent successfully",
    phone: sent.phone,
    expires_in_seconds: sent.expiresInSeconds,
    resend_after_seconds: sent.resendAfterSeconds,
    ...(sent.otp !== undefined ? { otp: sent.otp } : {}),
  };
}

/** What an emailed verification link stands for (GET /auth/verify). */
export function presentPendingSignUp(found: { email: string; expiresAt: Date }) {
  return { email: found.email, expires_at: found.expiresAt.toISOString() };
}
