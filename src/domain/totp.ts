import { Secret, TOTP } from "otpauth";
import { renderSVG } from "uqr";

// RFC 6238 with the parameters every authenticator app supports: SHA-1, 6 digits, 30-second steps;
// a code of the step before or after is accepted too (§5.2, clock drift), never one further away.

const PERIOD = 30;
const DIGITS = 6;
const WINDOW = 1;

/** A new 160-bit secret (RFC 4226 §4 recommends 160), base32 as apps expect it. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totpOf(secret: string, label = "", issuer = ""): TOTP {
  return new TOTP({ issuer, label, algorithm: "SHA1", digits: DIGITS, period: PERIOD, secret: Secret.fromBase32(secret) });
}

/** The `otpauth://totp/...` URI an app scans, and the same URI as an SVG QR code. */
export function totpEnrolment(secret: string, issuer: string, account: string): { otpauthUri: string; qrSvg: string } {
  const otpauthUri = totpOf(secret, account, issuer).toString();
  return { otpauthUri, qrSvg: renderSVG(otpauthUri) };
}

/**
 * The time step a code belongs to (within ±1 step of `now`), or null. The caller must still refuse
 * a step already accepted (src/durable/second-step-store.ts): a code is good only once.
 */
export function totpStepOf(secret: string, code: string, now: number): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totpOf(secret).validate({ token: code, timestamp: now, window: WINDOW });
  if (delta === null) return null;
  return TOTP.counter({ period: PERIOD, timestamp: now }) + delta;
}

/** The code of the step holding `now` (for tests and tools). */
export function totpCodeAt(secret: string, now: number): string {
  return totpOf(secret).generate({ timestamp: now });
}
