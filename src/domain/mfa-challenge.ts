import { AppError } from "../errors";
import type { User } from "../storage/users";
import { randomToken, sha256Hex } from "./crypto";
import { userSubject, type Deps } from "./deps";
import { loginThrottled } from "./limits";
import type { SignInAttempt, SignInMethod } from "./sign-in";
import type { Device } from "./session-tokens";

// The mfa_token a sign-in answers with when the account has a second factor: `<user id>.<256 random
// bits>`, so the verify request finds the user's object; only its SHA-256 is kept there, with the
// sign-in it stands for (method and device) and its attempt count, for five minutes.

export const MFA_CHALLENGE_TTL_SECONDS = 300;
/** Wrong codes one mfa_token takes before it is burned. */
export const MFA_TOKEN_MAX_ATTEMPTS = 5;
/** Wrong codes one user may send in `MFA_USER_WINDOW_MS` before the second step locks. */
export const MFA_USER_MAX_ATTEMPTS = 10;
export const MFA_USER_WINDOW_MS = 15 * 60 * 1000;

export type MfaChallenge = { mfaToken: string; expiresIn: number };

/** The sign-in an mfa_token stands for: what the session will be opened with. */
export type PendingSignIn = { method: SignInMethod; device: Device };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export async function openMfaChallenge(deps: Deps, user: User, attempt: SignInAttempt): Promise<MfaChallenge> {
  const mfaToken = `${user.id}.${randomToken(32)}`;
  const pending: PendingSignIn = { method: attempt.method, device: attempt.device };
  const opened = await userSubject(deps, user.id).openMfaChallenge({
    tokenHash: await sha256Hex(mfaToken),
    payload: JSON.stringify(pending),
    now: attempt.now,
    ttlMs: MFA_CHALLENGE_TTL_SECONDS * 1000,
    login: attempt.login,
  });
  if (!opened.ok) throw loginThrottled(opened.retryAfterMs);
  deps.audit({ action: "mfa.challenged", subjectId: user.id, details: { method: attempt.method } });
  return { mfaToken, expiresIn: MFA_CHALLENGE_TTL_SECONDS };
}

/** The user an mfa_token names and the hash it is kept under; anything malformed is invalid_mfa_token. */
export async function parseMfaToken(token: string): Promise<{ userId: string; tokenHash: string }> {
  const [userId, secret, ...rest] = token.split(".");
  if (!userId || !UUID.test(userId) || !secret || !/^[A-Za-z0-9_-]{43}$/.test(secret) || rest.length > 0) {
    throw new AppError("invalid_mfa_token");
  }
  return { userId, tokenHash: await sha256Hex(token) };
}
