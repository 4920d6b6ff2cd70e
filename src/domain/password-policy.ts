import type { Config } from "../config";
import { AppError } from "../errors";
import { COMMON_PASSWORDS } from "./common-passwords";
import { sha1Hex } from "./crypto";

// NIST SP 800-63B §5.1.1.2: length 8–128 (checked by the schemas), no composition rules, and a
// refusal of passwords that are common or known breached.

let common: Set<string> | undefined;

/**
 * zxcvbn-ts's common passwords of 8–128 characters (17,950; the schemas refuse other lengths
 * first), kept as one sorted string (scripts/gen-common-passwords.mjs) and made a Set on first
 * use, not at cold start.
 */
function commonPasswords(): Set<string> {
  common ??= new Set(COMMON_PASSWORDS.split("\n"));
  return common;
}

export async function assertAcceptablePassword(
  config: Config,
  password: string,
  context: { email?: string | null; field?: string } = {},
): Promise<void> {
  const weak = (detail: string) =>
    new AppError("weak_password", { detail, errors: [{ path: context.field ?? "password", message: detail }] });
  const lowered = password.toLowerCase();
  const email = context.email?.toLowerCase();
  if (email && (lowered === email || lowered === email.split("@")[0])) {
    throw weak("The password must not be your email address");
  }
  if (commonPasswords().has(lowered)) throw weak("This password is too common");
  if (config.pwnedPasswords.enabled && (await isBreached(password, config.pwnedPasswords.timeoutMs))) {
    throw weak("This password appears in known data breaches");
  }
}

/**
 * Have I Been Pwned's k-anonymity range query: only the first 5 hex digits of the SHA-1 leave
 * this service. Off by default; fails open (a timeout or error does not block the user).
 */
async function isBreached(password: string, timeoutMs: number): Promise<boolean> {
  const digest = (await sha1Hex(password)).toUpperCase();
  const prefix = digest.slice(0, 5);
  const suffix = digest.slice(5);
  try {
    const res = await fetch(`https://api.pwnedpasswords.com/range/${prefix}`, {
      headers: { "Add-Padding": "true" },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) return false;
    const body = await res.text();
    return body.split("\n").some((line) => {
      const [hash, count] = line.trim().split(":");
      return hash === suffix && Number(count) > 0;
    });
  } catch {
    return false;
  }
}
