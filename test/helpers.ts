import { env, exports } from "cloudflare:workers";
import { isValidPhoneNumber } from "libphonenumber-js/max";
import { expect, vi } from "vitest";
import { loadConfig } from "../src/config";
import { storesOf } from "../src/deps";
import { mailerFor } from "../src/delivery/mailer";
import { smsSenderFor } from "../src/delivery/sms";
import { writeAudit } from "../src/domain/audit";
import type { Deps } from "../src/domain/deps";
import { NO_SECOND_FACTORS } from "../src/domain/sign-in";
import { register } from "../src/domain/registration";
import { database } from "../src/storage/db";

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

/** Asserts a problem+json answer with the given status and code, and returns its body. */
export async function expectProblem(res: Response, status: number, code: string): Promise<Json> {
  const body = (await res.json()) as Json;
  expect({ status: res.status, code: body.code }).toEqual({ status, code });
  expect(res.headers.get("Content-Type")).toContain("application/problem+json");
  expect(body.status).toBe(status);
  return body;
}

// The console delivery provider writes one `[delivery] {json}` line per message; tests read codes
// from it exactly as a person would read them from the server log.
export type Delivered = { channel: string; to: string; subject?: string; text: string };

const outbox: Delivered[] = [];
const realLog = console.log.bind(console);
vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
  const line = args.map(String).join(" ");
  if (line.startsWith("[delivery] ")) {
    outbox.push(JSON.parse(line.slice("[delivery] ".length)) as Delivered);
    return;
  }
  realLog(...args);
});

export function messagesTo(to: string): Delivered[] {
  return outbox.filter((m) => m.to === to);
}

export function lastCode(to: string): string {
  const msg = messagesTo(to).at(-1);
  const code = msg && /\b(\d{6})\b/.exec(msg.text)?.[1];
  if (!code) throw new Error(`no code delivered to ${to}`);
  return code;
}

/** The code in the last SMS to `phone` (E.164), read from the console provider's log line. */
export function lastSmsCode(phone: string): string {
  const msg = messagesTo(phone).filter((m) => m.channel === "sms").at(-1);
  const code = msg && /\b(\d{6})\b/.exec(msg.text)?.[1];
  if (!code) throw new Error(`no SMS code delivered to ${phone}`);
  return code;
}

export function lastLinkToken(to: string): string {
  const msg = messagesTo(to).at(-1);
  const token = msg && /[?&]token=([^\s&]+)/.exec(msg.text)?.[1];
  if (!token) throw new Error(`no link delivered to ${to}`);
  return decodeURIComponent(token);
}

export function uniqueEmail(tag = "user"): string {
  return `${tag}-${crypto.randomUUID().slice(0, 12)}@example.com`;
}

const usedPhones = new Set<string>();

/** A Bangladeshi mobile number in E.164 (`+88017` and 8 random digits) that no other test uses. */
export function uniquePhone(): string {
  for (;;) {
    const digits = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b % 10).join("");
    const phone = `+88017${digits}`;
    if (!usedPhones.has(phone) && isValidPhoneNumber(phone)) {
      usedPhones.add(phone);
      return phone;
    }
  }
}

export const PASSWORD = "correct horse battery staple";

export async function registerUser(overrides: Json = {}): Promise<{ email: string; password: string }> {
  const email = (overrides.email as string) ?? uniqueEmail();
  const password = (overrides.password as string) ?? PASSWORD;
  const res = await post("/auth/register", { email, password, full_name: "Test User", ...overrides });
  expect(res.status).toBe(202);
  return { email, password };
}

/** A verified user signed in on `device_id`; returns the token response. */
export async function signedInUser(overrides: Json = {}, deviceId = "device-1") {
  const { email, password } = await registerUser(overrides);
  const res = await post("/auth/verify-email", { email, code: lastCode(email), device_id: deviceId });
  expect(res.status).toBe(200);
  const tokens = (await res.json()) as Json;
  return { email, password, tokens, deviceId };
}

export async function login(email: string, password: string, deviceId: string) {
  const res = await post("/auth/login", { email, password, device_id: deviceId });
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

/** The domain's dependencies over the test's real bindings, for calls that pass their own `now`. */
export function testDeps(): { deps: Deps; settle: () => Promise<void> } {
  const pending: Promise<unknown>[] = [];
  const config = loadConfig(env);
  return {
    deps: {
      config,
      ...storesOf(config, env),
      mailer: mailerFor(config),
      sms: smsSenderFor(config),
      secondFactors: NO_SECOND_FACTORS,
      defer: (work) => void pending.push(Promise.resolve().then(work)),
      audit: (event) => void pending.push(writeAudit(database(env.DB), event, { ip: null, userAgent: null, requestId: null }, Date.now())),
    },
    settle: async () => {
      await Promise.all(pending);
    },
  };
}

/**
 * Registers (again) through the domain at a chosen time, e.g. past the 60 s cooldown that guards
 * replacing a pending registration, without sleeping.
 */
export async function registerAt(at: number, fields: { email: string; full_name?: string; password?: string }) {
  const { deps, settle } = testDeps();
  await register(
    deps,
    {
      email: fields.email,
      password: fields.password ?? PASSWORD,
      fullName: fields.full_name ?? "Test User",
      username: null,
      phone: null,
      role: "CUSTOMER",
    },
    { ip: null, userAgent: null },
    at,
  );
  await settle();
}

export const AFTER_COOLDOWN_MS = 61_000;

/** Request metadata of a caller without a client address (per-IP limits do not apply). */
export const NO_META = { ip: null, userAgent: null };

/** Waits (up to ~2 s) until `count` messages reached `to`: some are sent after the response. */
export async function waitForMessages(to: string, count: number): Promise<Delivered[]> {
  for (let i = 0; i < 100 && messagesTo(to).length < count; i++) await new Promise((r) => setTimeout(r, 20));
  return messagesTo(to);
}

/** A request's outcome as status and problem code, for counting the answers to a burst. */
export type Outcome = { status: number; code: string | undefined };

/** Counts outcomes by "status code" ("200 ok" for successes). */
export function tally(outcomes: Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) {
    const key = `${o.status} ${o.code ?? "ok"}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
