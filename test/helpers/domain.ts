// The domain called directly over the test's real bindings, with `now` passed in: expiry, cooldown
// and lock rules are tried at a chosen time, never by sleeping.
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { loadConfig } from "../../src/config";
import { storesOf } from "../../src/deps";
import { mailerFor } from "../../src/delivery/mailer";
import { smsSenderFor } from "../../src/delivery/sms";
import { auditRecord, writeAudit } from "../../src/domain/audit";
import type { Deps } from "../../src/domain/deps";
import { loginWithPassword } from "../../src/domain/login";
import { register } from "../../src/domain/registration";
import { database } from "../../src/storage/db";
import type { Json } from "./http";
import { PASSWORD } from "./users";

/** Request metadata of a caller without a client address (per-IP limits do not apply). */
export const NO_META = { ip: null, userAgent: null };

const NO_CONTEXT = { ip: null, userAgent: null, requestId: null };

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
      defer: (work) => void pending.push(Promise.resolve().then(work)),
      audit: (event) => void pending.push(writeAudit(database(env.DB), event, NO_CONTEXT, Date.now())),
      auditRecord: (event) => auditRecord(event, NO_CONTEXT, Date.now()),
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

/** A password sign-in's result: the token response, or the refusal's code and Retry-After. */
export type LoginOutcome = { ok: true; body: Json } | { ok: false; code: string | undefined; retryAfter: number | undefined };

/** A password sign-in through the domain at `now`, on device `d` unless said otherwise. */
export function loginAt(
  email: string,
  password: string,
  now: number,
  device: { deviceId?: string; deviceToken?: string } = {},
): Promise<LoginOutcome> {
  const { deps } = testDeps();
  const input = { email, password, device: { deviceId: device.deviceId ?? "d", deviceName: null }, deviceToken: device.deviceToken };
  return loginWithPassword(deps, input, NO_META, now).then(
    (body) => ({ ok: true as const, body: body as Json }),
    (err: { code?: string; retryAfter?: number }) => ({ ok: false as const, code: err.code, retryAfter: err.retryAfter }),
  );
}

/** "ok", or the refusal's problem code. */
export const codeOf = (o: LoginOutcome) => (o.ok ? "ok" : o.code);

/**
 * Ten wrong passwords from `deviceId`, each after the delay the one before set: the account is
 * then locked, even for the right password. Returns the time of the last wrong password.
 */
export async function lockOut(email: string, start: number, deviceId = "d"): Promise<number> {
  let now = start;
  for (let failures = 0; failures < 10; ) {
    const outcome = await loginAt(email, "definitely not it", now, { deviceId });
    if (!outcome.ok && outcome.code === "too_many_attempts") {
      now += outcome.retryAfter! * 1000;
      continue;
    }
    expect(codeOf(outcome)).toBe("invalid_credentials");
    failures++;
  }
  expect(codeOf(await loginAt(email, PASSWORD, now + 1000, { deviceId }))).toBe("too_many_attempts");
  return now;
}
