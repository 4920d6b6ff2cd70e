import type { Limit } from "../config";
import { AppError } from "../errors";
import { ipSubject, type Deps, type Limits } from "./deps";


/** Counts one event on a subject's Durable Object; over the limit → 429 with Retry-After. */
export async function enforceLimit(subject: Limits, name: string, limit: Limit, now: number): Promise<void> {
  const result = await subject.hit({ name, count: limit.count, windowMs: limit.windowSeconds * 1000, now });
  if (!result.ok) throw new AppError("rate_limited", { retryAfter: result.retryAfterMs / 1000 });
}

/** The account's login throttle refused a password attempt (locked, or waiting out its delay). */
export function loginThrottled(retryAfterMs: number): AppError {
  return new AppError("too_many_attempts", { retryAfter: retryAfterMs / 1000 });
}

/**
 * The same, per client IP (CF-Connecting-IP, which Cloudflare always sets). Requests without one
 * only come from local tools and tests, and are not counted.
 */
export async function enforceIpLimit(deps: Deps, ip: string | null, name: string, limit: Limit, now: number): Promise<void> {
  const subject = ipSubject(deps, ip);
  if (subject) await enforceLimit(subject, name, limit, now);
}

/** A limit as the Durable Object's counters take it. */
export function counter(name: string, limit: Limit) {
  return { name, count: limit.count, windowMs: limit.windowSeconds * 1000 };
}

export const COUNTERS = {
  emailSends: "sends:email",
  smsSends: "sends:sms",
  register: "register",
  codeVerify: "verify:code",
  login: "login",
  passkeyOptions: "passkey:options",
  accountExports: "exports:account",
} as const;
