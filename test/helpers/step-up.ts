// Step-up from the test's side: reauthenticating, reading a token's auth_time and amr, and a clock
// moved forward for the whole Worker (tests, routes and Durable Objects share one isolate).
import { decodeJwt } from "jose";
import { vi } from "vitest";
import { post, type Json } from "./http";

export function reauthenticate(accessToken: string, body: Json): Promise<Response> {
  return post("/auth/reauthenticate", body, { authorization: `Bearer ${accessToken}` });
}

/** The step-up claims of an access token, with its session. */
export function authOf(accessToken: string): { auth_time: number; amr: string[]; sid: string; iat: number } {
  const { auth_time, amr, sid, iat } = decodeJwt(accessToken) as Json;
  return { auth_time, amr, sid, iat };
}

/**
 * Moves `Date` forward by `ms` everywhere (only Date is faked: timers and I/O run as usual, and the
 * clock keeps ticking from there). Undo with `restoreClock` (afterEach).
 */
export function moveClock(ms: number): void {
  const now = Date.now();
  vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true });
  vi.setSystemTime(now + ms);
}

export function restoreClock(): void {
  vi.useRealTimers();
}
