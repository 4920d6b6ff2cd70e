import type { Config } from "../config";
import type { Mailer } from "../delivery/mailer";
import type { SmsSender } from "../delivery/sms";
import type { SubjectStore } from "../durable/subject-store";
import type { Db } from "../storage/db";
import { sessionsRevoked } from "../storage/hot-cache";
import type { AuditEvent } from "./audit";
import { rateLimitSubject } from "./client-address";
import type { SecondFactors } from "./sign-in";

/** What domain code is handed: no Hono, no env globals; `now` comes with each call. */
export type Deps = {
  config: Config;
  db: Db;
  kv: KVNamespace;
  subjects: DurableObjectNamespace<SubjectStore>;
  mailer: Mailer;
  sms: SmsSender;
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
};

export type RequestMeta = { ip: string | null; userAgent: string | null };

/**
 * Passes on a Durable Object answer that names revoked sessions, after telling this isolate's
 * hot-path cache: their access tokens are refused here at once (src/storage/hot-cache.ts).
 */
export function revokedHere<T extends { revoked: string[] }>(deps: Deps, answer: T): T {
  sessionsRevoked(deps.config, answer.revoked);
  return answer;
}

export function userSubject(deps: Deps, userId: string) {
  return deps.subjects.get(deps.subjects.idFromName(`user:${userId}`));
}

export function emailSubject(deps: Deps, email: string) {
  return deps.subjects.get(deps.subjects.idFromName(`email:${email}`));
}

export function phoneSubject(deps: Deps, phone: string) {
  return deps.subjects.get(deps.subjects.idFromName(`phone:${phone}`));
}

/**
 * Per-client-address counters (an IPv6 address counts by its /64: src/domain/client-address.ts);
 * null when the request carries no client address (local tools, tests).
 */
export function ipSubject(deps: Deps, ip: string | null) {
  const subject = rateLimitSubject(ip);
  return subject ? deps.subjects.get(deps.subjects.idFromName(`ip:${subject}`)) : null;
}
