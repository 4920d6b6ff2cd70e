import { AppError } from "../errors";
import { parseDetails, presentUser, sessionFields } from "../presenters";
import {
  allSessionsOf,
  auditEventsInvolving,
  identitiesOf,
  kycApplicationsOf,
  secondFactorFactsOf,
} from "../storage/account-export";
import type { AuditEventRow } from "../storage/audit";
import { listPasskeys } from "../storage/passkeys";
import { findUserById, type User } from "../storage/users";
import { userSubject, type Deps } from "./deps";
import { COUNTERS, enforceLimit } from "./limits";
import { signDocumentLink } from "./kyc-document-links";
import { presentPasskey } from "./passkeys";

// The account export (GDPR art. 15 and 20): one JSON document of everything held about a user, one
// section per place it is held. Each section reads its rows through src/storage/account-export.ts,
// which selects no secret column, and names every field it sends: nothing reaches the document by
// spreading a row. A new source is one more entry in SECTIONS.

const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);

/** What every section is handed: the user's row as read for this export, and the export's time. */
export type ExportContext = { deps: Deps; user: User; now: number };

type Section = (ctx: ExportContext) => Promise<unknown>;

/** D1 `users`: the profile, with the fields the public User leaves out. Never the password hash. */
async function profile({ user }: ExportContext) {
  return {
    ...presentUser(user),
    email: user.email,
    unverified_email: user.unverifiedEmail,
    is_active: user.isActive,
    has_password: user.passwordHash !== null,
    updated_at: user.updatedAt.toISOString(),
  };
}

/** D1 `identities`: the accounts at other providers that sign in here. */
async function identities({ deps, user }: ExportContext) {
  return (await identitiesOf(deps.db, user.id)).map((i) => ({
    provider: i.provider,
    provider_user_id: i.providerUserId,
    email: i.email,
    linked_at: i.createdAt.toISOString(),
  }));
}

/** D1 `sessions` (the listing projection of the user's Durable Object): open and ended ones. */
async function sessions({ deps, user }: ExportContext) {
  return (await allSessionsOf(deps.db, user.id)).map((s) => ({
    ...sessionFields(s),
    expires_at: s.expiresAt.toISOString(),
    revoked_at: isoOrNull(s.revokedAt),
  }));
}

/** D1 `mfa_totp` and `mfa_recovery_codes`: public facts only, never a secret or a hash. */
async function secondFactors({ deps, user }: ExportContext) {
  const facts = await secondFactorFactsOf(deps.db, user.id);
  return {
    totp: {
      enabled: facts.totp?.confirmedAt != null,
      enrollment_pending: facts.totp !== null && facts.totp.confirmedAt === null,
      created_at: isoOrNull(facts.totp?.createdAt ?? null),
      confirmed_at: isoOrNull(facts.totp?.confirmedAt ?? null),
    },
    recovery_codes: {
      left: facts.recoveryCodes.left,
      used: facts.recoveryCodes.used,
      created_at: isoOrNull(facts.recoveryCodes.createdAt),
    },
  };
}

/** D1 `passkeys`: what the user sees of each (name, times, synced, transports); not the credential's keys. */
async function passkeys({ deps, user }: ExportContext) {
  return (await listPasskeys(deps.db, user.id)).map(presentPasskey);
}

/** Who decided, without naming the admin: an id of another person is not this user's data. */
function decider(decidedBy: string | null): "admin" | "verification_provider" | null {
  if (decidedBy === null) return null;
  return decidedBy.startsWith("provider:") ? "verification_provider" : "admin";
}

/** D1 `kyc_applications` and `kyc_documents`; each file in R2 as a link that works for 10 minutes. */
async function kycApplications({ deps, user, now }: ExportContext) {
  const applications = await kycApplicationsOf(deps.db, user.id);
  return Promise.all(
    applications.map(async (a) => ({
      id: a.id,
      status: a.status,
      document_type: a.documentType,
      submitted_at: a.submittedAt.toISOString(),
      decided_at: isoOrNull(a.decidedAt),
      decided_by: decider(a.decidedBy),
      rejection_reason: a.rejectionReason,
      documents: await Promise.all(
        a.documents.map(async (d) => {
          const link = await signDocumentLink(deps, { documentId: d.id, userId: user.id }, now);
          return {
            id: d.id,
            kind: d.kind,
            content_type: d.contentType,
            size: d.size,
            uploaded_at: d.createdAt.toISOString(),
            download_url: link.url,
            download_expires_at: link.expiresAt.toISOString(),
          };
        }),
      ),
    })),
  );
}

const AUDIT_PAGE = 500;

/**
 * D1 `audit_events` where the user is the subject or the actor. Another person's traces are left
 * out: when someone else acted (an admin, a stranger trying the password), their address and
 * browser are not shown and their id is replaced by what they were.
 */
async function auditEvents({ deps, user }: ExportContext) {
  const rows: AuditEventRow[] = [];
  for (let after = null as AuditEventRow | null; ; ) {
    const page = await auditEventsInvolving(deps.db, user.id, after && { at: after.at, id: after.id }, AUDIT_PAGE);
    rows.push(...page);
    if (page.length < AUDIT_PAGE) break;
    after = page.at(-1)!;
  }
  return rows.map((e) => {
    const self = e.actorId === user.id;
    return {
      id: e.id,
      at: e.at.toISOString(),
      action: e.action,
      actor: self ? "self" : e.actorId === null ? null : e.actorId === "system" || e.actorId === "provider" ? e.actorId : "another_user",
      about_self: e.subjectId === user.id,
      ip: self ? e.ip : null,
      user_agent: self ? e.userAgent : null,
      details: parseDetails(e.details),
    };
  });
}

/** Every section of the document, by its name in the JSON, in the order it appears. */
const SECTIONS = {
  profile,
  identities,
  sessions,
  second_factors: secondFactors,
  passkeys,
  kyc_applications: kycApplications,
  audit_events: auditEvents,
} satisfies Record<string, Section>;

type Sections = { [K in keyof typeof SECTIONS]: Awaited<ReturnType<(typeof SECTIONS)[K]>> };

export const EXPORT_FORMAT = "edge-auth.account-export.v1";

/** Exports per user: each reads every table the user is in (the audit part by a scan), so it is bounded. */
export const EXPORT_LIMIT = { count: 10, windowSeconds: 3600 };

/** The whole document for the signed-in user; audited; 429 rate_limited past EXPORT_LIMIT. */
export async function exportAccount(deps: Deps, userId: string, now: number) {
  const user = await findUserById(deps.db, userId);
  if (!user || !user.isActive) throw new AppError("invalid_access_token");
  await enforceLimit(userSubject(deps, userId), COUNTERS.accountExports, EXPORT_LIMIT, now);
  const ctx: ExportContext = { deps, user, now };
  const entries = await Promise.all(Object.entries(SECTIONS).map(async ([name, read]) => [name, await read(ctx)] as const));
  deps.audit({ action: "account.exported", actorId: userId });
  return {
    format: EXPORT_FORMAT,
    exported_at: new Date(now).toISOString(),
    user_id: user.id,
    ...(Object.fromEntries(entries) as Sections),
  };
}
