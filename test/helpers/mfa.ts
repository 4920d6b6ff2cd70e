// Second factors from the test's side: an authenticator app (otpauth with the secret the enrolment
// answered) and the enrolment itself through the routes.
import { Secret, TOTP } from "otpauth";
import { expect } from "vitest";
import { authed, post, type Json } from "./http";

const STEP_MS = 30_000;

/** The code an app shows at `at` (default now), `steps` steps later (negative: earlier). */
export function totpCode(secret: string, steps = 0, at = Date.now()): string {
  return new TOTP({ secret: Secret.fromBase32(secret), algorithm: "SHA1", digits: 6, period: 30 }).generate({ timestamp: at + steps * STEP_MS });
}

/**
 * Enrols and confirms an authenticator app for the holder of `token`; the confirming code is the
 * current step's, so the next accepted code must be a later step's (`totpCode(secret, 1)`).
 */
export async function enrolTotp(token: string): Promise<{ secret: string; recoveryCodes: string[]; confirmedWith: string }> {
  const started = await authed(token, "/users/me/mfa/totp", { method: "POST" });
  expect(started.status).toBe(200);
  const { secret } = (await started.json()) as { secret: string };
  const confirmedWith = totpCode(secret);
  const confirmed = await post("/users/me/mfa/totp/confirm", { code: confirmedWith }, { authorization: `Bearer ${token}` });
  expect(confirmed.status).toBe(200);
  const { recovery_codes } = (await confirmed.json()) as { recovery_codes: string[] };
  return { secret, recoveryCodes: recovery_codes, confirmedWith };
}

/** A sign-in answer that must be the second-factor challenge; returns its mfa_token. */
export async function mfaTokenOf(res: Response): Promise<string> {
  expect(res.status).toBe(200);
  const body = (await res.json()) as Json;
  expect(body).toMatchObject({ mfa_required: true, methods: ["totp", "recovery_code"], expires_in: 300 });
  expect(body.access_token).toBeUndefined();
  return body.mfa_token as string;
}

export function verifyMfa(mfaToken: string, method: "totp" | "recovery_code", code: string): Promise<Response> {
  return post("/auth/mfa/verify", { mfa_token: mfaToken, method, code });
}
