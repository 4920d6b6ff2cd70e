import { AppError } from "../errors";
import { sha1Hex } from "./crypto";
import type { Deps } from "./deps";

// NIST SP 800-63B §5.1.1.2: length 8–128 (checked by the schemas), no composition rules, and a
// refusal of passwords that are common or known breached.

/**
 * Refuses a password that is the account's address, common (zxcvbn-ts's list of 8–128 characters,
 * a static asset loaded on the first check: src/storage/common-passwords.ts) or, when the check is
 * on, known breached.
 */
export async function assertAcceptablePassword(
  deps: Pick<Deps, "config" | "commonPasswords">,
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
  if (await isCommon(deps, lowered)) throw weak("This password is too common");
  const { pwnedPasswords } = deps.config;
  if (pwnedPasswords.enabled && (await isBreached(password, pwnedPasswords.timeoutMs))) {
    throw weak("This password appears in known data breaches");
  }
}

/** Fails closed: without the list no password can be judged, and none is accepted unjudged. */
async function isCommon(deps: Pick<Deps, "commonPasswords">, lowered: string): Promise<boolean> {
  try {
    return await deps.commonPasswords.has(lowered);
  } catch (err) {
    console.error(JSON.stringify({ event: "common_passwords_unavailable", error: err instanceof Error ? err.message : String(err) }));
    throw new AppError("service_unavailable", { detail: "Passwords cannot be checked right now; try again shortly" });
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
