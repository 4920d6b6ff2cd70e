import type { Config } from "../config";
import type { Mailer } from "../delivery/mailer";
import type { SmsSender } from "../delivery/sms";
import type { SubjectStore } from "../durable/subject-store";
import type { CommonPasswords } from "../storage/common-passwords";
import type { Db } from "../storage/db";
import type { AuditRecord } from "../storage/audit";
import type { AuditEvent } from "./audit";
import { rateLimitSubject } from "./client-address";
import type { SecondFactors } from "./sign-in";

/**
 * What domain code is handed: no Hono, no env globals, no raw KV or Durable Object bindings (the
 * interfaces below stand for them; src/deps.ts builds them); `now` comes with each call.
 */
export type Deps = {
  config: Config;
  db: Db;
  subjects: Subjects;
  links: Links;
  revocations: Revocations;
  mailer: Mailer;
  sms: SmsSender;
  /** The common-password deny list (a static asset, loaded on first use). */
  commonPasswords: CommonPasswords;
  /** Asked by the sign-in pipeline before it opens a session (src/domain/sign-in.ts). */
  secondFactors: SecondFactors;
  /**
   * Runs work after the response (ctx.waitUntil), for writes nobody waits on. It takes a function,
   * so the work does not even start before the answer is ready: what happens only for some
   * subjects (a code stored for a real account) cannot show in the response time.
   */
  defer: (work: () => Promise<unknown>) => void;
  /** Records an audit event with this request's IP, user agent and request id, after the response. */
  audit: (event: AuditEvent) => void;
  /**
   * The row `audit` would write, with the same context, for a store that writes it with its own
   * batch: a sign-in's `login.succeeded` goes to D1 with the session's row, in one batch.
   */
  auditRecord: (event: AuditEvent) => AuditRecord;
};

export type RequestMeta = { ip: string | null; userAgent: string | null };

/** The SubjectStore Durable Object of one subject, called over RPC. */
type Rpc = DurableObjectStub<SubjectStore>;

// What the domain may ask of a subject's store, by concern: each subject kind is handed only the
// concerns it has (an IP address has no sessions, an email address no upload slot).

/** Sessions and refresh-token chains: the truth for authentication (a user's store only). */
export type Sessions = Pick<
  Rpc,
  "createSession" | "setActive" | "rotateRefresh" | "reauthenticateSession" | "revokeByToken" | "revokeSessions"
>;
/** One-time codes and links with their miss counters. */
export type Codes = Pick<
  Rpc,
  "putCode" | "renewCode" | "verifyCode" | "verifyLink" | "lookupLink" | "beginLinkAttempt" | "settleClaim" | "undoSend"
>;
/** Rate-limit counters, cooldowns and the login throttle. */
export type Limits = Pick<Rpc, "claimCooldown" | "hit" | "beginLogin" | "settleLogin" | "loginSucceeded">;
/** The second step of a sign-in: challenges, attempt counts, TOTP steps spent (a user's store only). */
export type SecondStep = Pick<
  Rpc,
  | "openMfaChallenge"
  | "beginMfaAttempt"
  | "finishMfaChallenge"
  | "acceptTotpStep"
  | "beginStepUpAttempt"
  | "finishStepUpTotp"
  | "clearSecondStep"
  | "openPasskeyStep"
>;
/** WebAuthn challenges waiting for an authenticator's answer, each taken once. */
export type WebAuthnChallenges = Pick<Rpc, "putWebAuthnChallenge" | "takeWebAuthnChallenge">;
/** The one KYC upload in flight (a user's store only). */
export type Uploads = Pick<Rpc, "claimUpload" | "releaseUpload">;

/** Erasing what a subject's store holds, when its account is deleted (src/domain/account-deletion.ts). */
export type Erasure = Pick<Rpc, "heldLinks" | "forget">;

export type UserSubject = Sessions & Codes & Limits & Uploads & SecondStep & WebAuthnChallenges & Erasure;
export type AddressSubject = Codes & Limits & Erasure;

/** Each subject's SubjectStore, by what it stands for (src/durable/subjects.ts names them). */
export interface Subjects {
  user(userId: string): UserSubject;
  /** A normalized address, whether or not an account holds it. */
  email(address: string): AddressSubject;
  /** A number in E.164, whether or not an account holds it. */
  phone(e164: string): AddressSubject;
  /** A client address as rate limits count it (rateLimitSubject). */
  ip(address: string): Limits;
  /** The challenge of one discoverable passkey sign-in, before any user is known (its challenge_id). */
  webauthn(challengeId: string): WebAuthnChallenges;
}

/** Records held under the SHA-256 of a secret only the client has: emailed links and Google sign-in states. */
export type LinkKind = "verify" | "reset" | "google-state";

/**
 * Link records (src/storage/links.ts): eventually consistent and expiring by themselves, so each
 * value that needs an exact expiry carries it, or its Durable Object record does.
 */
export interface Links {
  put(kind: LinkKind, hash: string, value: string, ttlSeconds: number): Promise<void>;
  get(kind: LinkKind, hash: string): Promise<string | null>;
  delete(kind: LinkKind, hash: string): Promise<void>;
  /**
   * Deletes every emailed-link record (`verify`, `reset`) that names one of `addresses`, including
   * links whose code was used instead (they live until their TTL): an account's deletion. Lists the
   * live links of those two kinds, which expire within a day.
   */
  forgetAddresses(addresses: readonly string[]): Promise<number>;
}

/** The access-token denylist (src/storage/revocations.ts), which SubjectStore writes when it revokes. */
export interface Revocations {
  /** Whether access tokens of the session may still be used. */
  isOpen(sessionId: string): Promise<boolean>;
  /** Sessions a Durable Object answer just named revoked: refused in this isolate at once. */
  revoked(sessionIds: readonly string[]): void;
}

/** Passes on a Durable Object answer that names revoked sessions, after telling the denylist's reader here. */
export function revokedHere<T extends { revoked: string[] }>(deps: Deps, answer: T): T {
  deps.revocations.revoked(answer.revoked);
  return answer;
}

export function userSubject(deps: Deps, userId: string): UserSubject {
  return deps.subjects.user(userId);
}

export function emailSubject(deps: Deps, email: string): AddressSubject {
  return deps.subjects.email(email);
}

export function phoneSubject(deps: Deps, phone: string): AddressSubject {
  return deps.subjects.phone(phone);
}

/**
 * Per-client-address counters (an IPv6 address counts by its /64: src/domain/client-address.ts);
 * null when the request carries no client address (local tools, tests).
 */
export function ipSubject(deps: Deps, ip: string | null): Limits | null {
  const subject = rateLimitSubject(ip);
  return subject ? deps.subjects.ip(subject) : null;
}
