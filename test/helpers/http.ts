// Calling the Worker through its own fetch, and the assertions every route test makes on an answer:
// status, problem `code` and headers, never English text.
import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import { base64url } from "../../src/domain/crypto";

export const BASE = "http://auth.test";

export type Json = Record<string, any>;

const API_PREFIXES = ["/auth", "/users", "/kyc", "/admin", "/provider"];

/** `/auth/...`-style paths are under /api/v1; anything else (`/health`, full URLs) is taken as is. */
export function url(path: string): string {
  if (path.startsWith("http")) return path;
  return `${BASE}${API_PREFIXES.some((p) => path.startsWith(p)) ? "/api/v1" : ""}${path}`;
}

export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(url(path), init);
}

export function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return call(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

export function authed(token: string, path: string, init: RequestInit = {}): Promise<Response> {
  return call(path, { ...init, headers: { ...(init.headers as Record<string, string>), Authorization: `Bearer ${token}` } });
}

/** An authenticated PATCH with a JSON body. */
export function patchJson(token: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return authed(token, path, {
    method: "PATCH",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/** PATCH /users/me: the caller's own profile. */
export function patchMe(token: string, body: unknown): Promise<Response> {
  return patchJson(token, "/users/me", body);
}

/** PATCH /admin/users/{id}: role and activation, as an admin. */
export function patchUser(token: string, id: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return patchJson(token, `/admin/users/${id}`, body, headers);
}

/** base64url of a value's JSON: a JWT part or a page cursor, as a client (or a forger) writes one. */
export function base64urlJson(value: unknown): string {
  return base64url(new TextEncoder().encode(JSON.stringify(value)));
}

/** Asserts a problem+json answer with the given status and code, and returns its body. */
export async function expectProblem(res: Response, status: number, code: string): Promise<Json> {
  const body = (await res.json()) as Json;
  expect({ status: res.status, code: body.code }).toEqual({ status, code });
  expect(res.headers.get("Content-Type")).toContain("application/problem+json");
  expect(body.status).toBe(status);
  return body;
}

/** A 429 rate_limited whose Retry-After is a whole number of seconds from 1 to `maxRetryAfter`. */
export async function expectRateLimited(res: Response, maxRetryAfter = Infinity): Promise<void> {
  await expectProblem(res, 429, "rate_limited");
  const retryAfter = res.headers.get("Retry-After");
  expect(retryAfter).toMatch(/^\d+$/);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(retryAfter)).toBeLessThanOrEqual(maxRetryAfter);
}

/** Exactly one answer of a burst has `status`; every other one is a 429 rate_limited as above. */
export async function expectOneThrough(answers: Response[], status: number, maxRetryAfter = Infinity): Promise<void> {
  expect(answers.filter((r) => r.status === status)).toHaveLength(1);
  const refused = answers.filter((r) => r.status !== status);
  expect(refused).toHaveLength(answers.length - 1);
  for (const res of refused) await expectRateLimited(res, maxRetryAfter);
}

/** A request's outcome as status and problem code, for counting the answers to a burst. */
export type Outcome = { status: number; code: string | undefined };

/** The answer's status, and its problem code when it is an error. */
export async function outcome(res: Response): Promise<Outcome> {
  const body = (await res.json()) as { code?: string };
  return { status: res.status, code: res.status >= 400 ? body.code : undefined };
}

/** "status code" ("200 ok" for a success): how tallies name an outcome. */
export function outcomeKey(o: Outcome): string {
  return `${o.status} ${o.code ?? "ok"}`;
}

/** Counts outcomes by "status code" ("200 ok" for successes). */
export function tally(outcomes: Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) {
    const key = outcomeKey(o);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Status, the named headers and the body: two answers an attacker must not tell apart compare equal. */
export async function answerOf(res: Response, headers: string[]): Promise<{ status: number; headers: Record<string, string | null>; body: Json }> {
  return {
    status: res.status,
    headers: Object.fromEntries(headers.map((h) => [h, res.headers.get(h)])),
    body: await res.json<Json>(),
  };
}
