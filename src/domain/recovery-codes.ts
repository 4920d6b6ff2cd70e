import { sha256Hex } from "./crypto";

// Ten recovery codes, shown once. Each holds 80 random bits (16 Crockford base32 characters), too
// many to guess, so an unsalted SHA-256 is enough to store it (as for refresh tokens).

export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export function newRecoveryCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  let text = "";
  for (let i = 0; i < 16; i++) {
    text = ALPHABET[Number(bits & 31n)]! + text;
    bits >>= 5n;
  }
  return `${text.slice(0, 4)}-${text.slice(4, 8)}-${text.slice(8, 12)}-${text.slice(12)}`;
}

/** Case, spaces and dashes do not matter; Crockford's look-alikes (O, I, L) read as 0 and 1. */
export function normalizeRecoveryCode(input: string): string | null {
  const text = input.toUpperCase().replace(/[\s-]/g, "").replace(/O/g, "0").replace(/[IL]/g, "1");
  return /^[0-9A-HJKMNP-TV-Z]{16}$/.test(text) ? text : null;
}

export function hashRecoveryCode(normalized: string): Promise<string> {
  return sha256Hex(`recovery:${normalized}`);
}
