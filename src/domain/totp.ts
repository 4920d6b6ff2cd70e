import type { TOTP } from "otpauth";

// RFC 6238 with the parameters every authenticator app supports: SHA-1, 6 digits, 30-second steps;
// a code of the step before or after is accepted too (§5.2, clock drift), never one further away.
// otpauth and uqr are loaded on the first TOTP request: otpauth's hash tables are built when its
// module runs, which would otherwise be at every isolate's startup.

const otpauth = () => import("otpauth");

const PERIOD = 30;
const DIGITS = 6;
const WINDOW = 1;

/** A new 160-bit secret (RFC 4226 §4 recommends 160), base32 as apps expect it. */
export async function newTotpSecret(): Promise<string> {
  const { Secret } = await otpauth();
  return new Secret({ size: 20 }).base32;
}

async function totpOf(secret: string, label = "", issuer = ""): Promise<TOTP> {
  const { Secret, TOTP } = await otpauth();
  return new TOTP({ issuer, label, algorithm: "SHA1", digits: DIGITS, period: PERIOD, secret: Secret.fromBase32(secret) });
}

/** The `otpauth://totp/...` URI an app scans, and the same URI as an SVG QR code. */
export async function totpEnrolment(secret: string, issuer: string, account: string): Promise<{ otpauthUri: string; qrSvg: string }> {
  const [totp, { renderSVG }] = await Promise.all([totpOf(secret, account, issuer), import("uqr")]);
  const otpauthUri = totp.toString();
  return { otpauthUri, qrSvg: renderSVG(otpauthUri) };
}

/**
 * The time step a code belongs to (within ±1 step of `now`), or null. The caller must still refuse
 * a step already accepted (src/durable/second-step-store.ts): a code is good only once.
 */
export async function totpStepOf(secret: string, code: string, now: number): Promise<number | null> {
  if (!/^\d{6}$/.test(code)) return null;
  const { TOTP } = await otpauth();
  const delta = (await totpOf(secret)).validate({ token: code, timestamp: now, window: WINDOW });
  if (delta === null) return null;
  return TOTP.counter({ period: PERIOD, timestamp: now }) + delta;
}
