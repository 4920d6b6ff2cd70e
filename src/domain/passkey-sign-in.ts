import { AppError } from "../errors";
import { findPasskeyByCredentialId, listPasskeys, recordPasskeyUse, type Passkey } from "../storage/passkeys";
import { findUserById } from "../storage/users";
import { userSubject, type Deps, type RequestMeta } from "./deps";
import { COUNTERS, enforceIpLimit } from "./limits";
import { MFA_TOKEN_MAX_ATTEMPTS, parseMfaToken } from "./mfa-challenge";
import type { Device } from "./session-tokens";
import { completeSignIn, type SignInResult } from "./sign-in";
import {
  checkAssertion,
  claimedChallenge,
  counterGoesForward,
  PASSKEY_CHALLENGE_TTL_MS,
  requestOptions,
  type AuthenticationResponseJSON,
  type RequestOptions,
} from "./webauthn";

// Signing in with a passkey: discoverable (no username typed, the challenge kept in an object of its
// own until the answer names the user), as the second step after another first factor, and as
// the proof of a step-up (POST /auth/reauthenticate). Each challenge is taken once before the
// answer is checked; a refused answer is audited with its reason and answered without it.

type Stage = "sign_in" | "second_step" | "reauth";

export type AssertionCheck = { ok: true; userVerified: boolean } | { ok: false; reason: string; message?: string };

/** Request options with no allowed credentials, and the challenge_id the answer must carry. */
export async function passkeySignInOptions(deps: Deps, meta: RequestMeta, now: number): Promise<RequestOptions & { challenge_id: string }> {
  await enforceIpLimit(deps, meta.ip, COUNTERS.passkeyOptions, deps.config.login.ipLimit, now);
  const options = await requestOptions(deps.config, []);
  const challengeId = crypto.randomUUID();
  await deps.subjects.webauthn(challengeId).putWebAuthnChallenge({
    key: challengeId,
    purpose: "sign_in",
    challenge: options.challenge,
    binding: "",
    now,
    ttlMs: PASSKEY_CHALLENGE_TTL_MS,
  });
  return { ...options, challenge_id: challengeId };
}

export type PasskeySignInInput = { challengeId: string; credential: AuthenticationResponseJSON; device: Device };

/**
 * A discoverable sign-in: the credential names the passkey, and through it the user. With user
 * verification the passkey is both factors; without, the pipeline asks for the user's others.
 */
export async function signInWithPasskey(deps: Deps, input: PasskeySignInInput, meta: RequestMeta, now: number): Promise<SignInResult> {
  await enforceIpLimit(deps, meta.ip, COUNTERS.login, deps.config.login.ipLimit, now);
  const taken = await deps.subjects
    .webauthn(input.challengeId)
    .takeWebAuthnChallenge({ key: input.challengeId, purpose: "sign_in", binding: "", now });
  const passkey = await findPasskeyByCredentialId(deps.db, input.credential.id);
  // The challenge is spent either way; a refusal names the passkey's owner when there is one.
  if (!taken.ok) return refuse(deps, "sign_in", passkey?.userId ?? null, { ok: false, reason: `challenge_${taken.reason}` });
  const user = passkey && (await findUserById(deps.db, passkey.userId));
  if (!passkey || !user) {
    deps.audit({ action: "passkey.failed", details: { stage: "sign_in", reason: "unknown_credential" } });
    throw new AppError("unknown_passkey");
  }
  const checked = await assertPasskey(deps, passkey, input.credential, taken.challenge, now);
  if (!checked.ok) return refuse(deps, "sign_in", user.id, checked);
  return completeSignIn(deps, user, { method: "passkey", userVerified: checked.userVerified, device: input.device, meta, now });
}

/**
 * Request options for the second step of a sign-in: the user's passkeys, and a challenge bound to
 * the mfa_token, issued only while that sign-in can still be finished.
 */
export async function passkeyStepOptions(deps: Deps, mfaToken: string, now: number): Promise<RequestOptions> {
  const { userId, tokenHash } = await parseMfaToken(mfaToken);
  const options = await requestOptions(deps.config, await listPasskeys(deps.db, userId));
  const opened = await userSubject(deps, userId).openPasskeyStep({
    key: options.challenge,
    challenge: options.challenge,
    tokenHash,
    maxAttempts: MFA_TOKEN_MAX_ATTEMPTS,
    now,
    ttlMs: PASSKEY_CHALLENGE_TTL_MS,
  });
  if (!opened.ok) throw new AppError("invalid_mfa_token");
  return options;
}

/**
 * Whether `credential` is the user's passkey answering a challenge issued for this mfa_token
 * (POST /auth/mfa/verify, which has already counted the attempt and audits a refusal).
 */
export async function checkPasskeyStep(
  deps: Deps,
  userId: string,
  tokenHash: string,
  credential: AuthenticationResponseJSON,
  now: number,
): Promise<AssertionCheck> {
  const claimed = claimedChallenge(credential);
  if (!claimed) return { ok: false, reason: "malformed" };
  const taken = await userSubject(deps, userId).takeWebAuthnChallenge({ key: claimed, purpose: "second_step", binding: tokenHash, now });
  if (!taken.ok) return { ok: false, reason: `challenge_${taken.reason}` };
  const passkey = await findPasskeyByCredentialId(deps.db, credential.id);
  if (!passkey) return { ok: false, reason: "unknown_credential" };
  if (passkey.userId !== userId) return { ok: false, reason: "other_users_credential" };
  return assertPasskey(deps, passkey, credential, taken.challenge, now);
}

/** Request options for a step-up with one of the user's own passkeys, and their challenge_id. */
export async function reauthenticationOptions(deps: Deps, userId: string, now: number): Promise<RequestOptions & { challenge_id: string }> {
  const options = await requestOptions(deps.config, await listPasskeys(deps.db, userId));
  const challengeId = crypto.randomUUID();
  await userSubject(deps, userId).putWebAuthnChallenge({
    key: challengeId,
    purpose: "reauth",
    challenge: options.challenge,
    binding: "",
    now,
    ttlMs: PASSKEY_CHALLENGE_TTL_MS,
  });
  return { ...options, challenge_id: challengeId };
}

/**
 * A step-up proved with one of the user's passkeys (POST /auth/reauthenticate): the challenge must
 * be one issued to this user by reauthenticationOptions. Throws invalid_passkey otherwise.
 */
export async function verifyReauthPasskey(
  deps: Deps,
  user: { id: string },
  input: { challengeId: string; credential: AuthenticationResponseJSON },
  now: number,
): Promise<{ userVerified: boolean }> {
  const taken = await userSubject(deps, user.id).takeWebAuthnChallenge({ key: input.challengeId, purpose: "reauth", binding: "", now });
  if (!taken.ok) return refuse(deps, "reauth", user.id, { ok: false, reason: `challenge_${taken.reason}` });
  const passkey = await findPasskeyByCredentialId(deps.db, input.credential.id);
  if (!passkey || passkey.userId !== user.id) {
    return refuse(deps, "reauth", user.id, { ok: false, reason: passkey ? "other_users_credential" : "unknown_credential" });
  }
  const checked = await assertPasskey(deps, passkey, input.credential, taken.challenge, now);
  if (!checked.ok) return refuse(deps, "reauth", user.id, checked);
  return { userVerified: checked.userVerified };
}

/**
 * Checks the assertion, then its counter, and records it: the counter must go forward, else the
 * passkey may have been cloned (WebAuthn §6.1.1), which is audited on its own.
 */
async function assertPasskey(
  deps: Deps,
  passkey: Passkey,
  credential: AuthenticationResponseJSON,
  challenge: string,
  now: number,
): Promise<AssertionCheck> {
  const checked = await checkAssertion(deps.config, credential, passkey, challenge);
  if (!checked.ok) return checked;
  const { newCounter, userVerified } = checked.assertion;
  const recorded = counterGoesForward(passkey.counter, newCounter) && (await recordPasskeyUse(deps.db, passkey.id, newCounter, new Date(now)));
  if (!recorded) {
    deps.audit({
      action: "passkey.counter_regressed",
      subjectId: passkey.userId,
      details: { passkey_id: passkey.id, stored: passkey.counter, received: newCounter },
    });
    return { ok: false, reason: "counter_regressed" };
  }
  return { ok: true, userVerified };
}

function refuse(deps: Deps, stage: Stage, userId: string | null, failure: Extract<AssertionCheck, { ok: false }>): never {
  deps.audit({
    action: "passkey.failed",
    subjectId: userId,
    details: { stage, reason: failure.reason, ...(failure.message ? { error: failure.message } : {}) },
  });
  throw new AppError("invalid_passkey");
}
