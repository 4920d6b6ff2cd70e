import { insertAuditEvent, type AuditRecord } from "../storage/audit";
import type { Db } from "../storage/db";
import { auditEvents } from "../storage/schema";

/** Every action the audit log records. */
export type AuditAction =
  | "registration.started"
  | "email.verified"
  | "email.verify_failed"
  | "login.succeeded"
  | "login.failed"
  | "login.throttled"
  | "login.code_requested"
  | "user.created"
  | "refresh.reuse_detected"
  | "session.logout"
  | "session.logout_all"
  | "session.revoked"
  | "password.reset_requested"
  | "password.reset"
  | "password.changed"
  | "password.set"
  | "email.change_requested"
  | "email.change_failed"
  | "email.changed"
  | "phone.change_requested"
  | "phone.change_failed"
  | "phone.changed"
  | "admin.role_changed"
  | "admin.activation_changed"
  | "admin.sessions_revoked"
  | "admin.user_deleted"
  | "account.deleted"
  | "kyc.submitted"
  | "kyc.approved"
  | "kyc.rejected"
  | "kyc.webhook_received"
  | "kyc.document_downloaded"
  | "account.exported"
  | "mfa.totp_enrollment_started"
  | "mfa.totp_enabled"
  | "mfa.totp_disabled"
  | "mfa.recovery_codes_regenerated"
  | "mfa.challenged"
  | "mfa.verified"
  | "mfa.failed"
  | "mfa.locked"
  | "mfa.reset"
  | "passkey.registered"
  | "passkey.registration_failed"
  | "passkey.renamed"
  | "passkey.deleted"
  | "passkey.failed"
  | "passkey.counter_regressed"
  | "reauth.succeeded"
  | "reauth.failed"
  | "identity.linked"
  | "identity.unlinked";

export type AuditEvent = {
  action: AuditAction;
  actorId?: string | null;
  subjectId?: string | null;
  /** Non-secret details only: ids, roles, reasons. Never a password, code or token. */
  details?: Record<string, unknown>;
};

export type AuditContext = { ip: string | null; userAgent: string | null; requestId: string | null };

export function auditRow(event: AuditEvent, context: AuditContext, now: number): typeof auditEvents.$inferSelect {
  return {
    id: crypto.randomUUID(),
    at: new Date(now),
    action: event.action,
    actorId: event.actorId ?? null,
    subjectId: event.subjectId ?? event.actorId ?? null,
    ip: context.ip,
    userAgent: context.userAgent,
    requestId: context.requestId,
    details: event.details ? JSON.stringify(event.details) : null,
  };
}

/** The same row for a write that carries it itself (the user's object lists a session with it). */
export function auditRecord(event: AuditEvent, context: AuditContext, now: number): AuditRecord {
  const row = auditRow(event, context, now);
  return { ...row, at: now };
}

/** Writes one audit event; the caller decides whether to wait (Deps.audit does not). */
export async function writeAudit(db: Db, event: AuditEvent, context: AuditContext, now: number): Promise<void> {
  await insertAuditEvent(db, auditRow(event, context, now));
}
