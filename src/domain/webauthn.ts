import type {
  AuthenticationResponseJSON,
  AuthenticatorTransport,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";
import type { Config } from "../config";
import type { Passkey } from "../storage/passkeys";
import { base64url, fromBase64url } from "./crypto";

// WebAuthn through @simplewebauthn/server, kept to this module: options for the browser, and the
// checks of its answers against the configured relying party (WEBAUTHN_RP_ID, WEBAUTHN_ORIGINS).
// A failed check is a reason for the audit log, never for the client.

/** Challenges live five minutes; the browser's own timeout says the same. */
export const PASSKEY_CHALLENGE_TTL_MS = 5 * 60 * 1000;

/** Loaded on the first passkey request: its certificate and ASN.1 code stays out of cold start. */
const library = () => import("@simplewebauthn/server");

export type { AuthenticationResponseJSON, RegistrationResponseJSON };
export type RegistrationOptions = PublicKeyCredentialCreationOptionsJSON;
export type RequestOptions = PublicKeyCredentialRequestOptionsJSON;

/** Why an answer was refused: recorded in the audit row. */
export type PasskeyFailure =
  | "malformed"
  | "challenge_mismatch"
  | "wrong_origin"
  | "wrong_rp_id"
  | "wrong_type"
  | "user_not_present"
  | "bad_signature"
  | "user_handle_mismatch";

export type Refusal = { ok: false; reason: PasskeyFailure; message: string };

export type RegisteredCredential = {
  credentialId: string;
  publicKey: string;
  counter: number;
  transports: string[];
  backedUp: boolean;
  deviceType: string;
  aaguid: string;
};

export type CheckedAssertion = { newCounter: number; userVerified: boolean; backedUp: boolean };

/** The WebAuthn user handle of a user: their id's bytes (no personal data, RFC 4122 text). */
export function userHandleOf(userId: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(new TextEncoder().encode(userId));
}

type Named = { id: string; email: string | null; username: string | null; phone: string | null; fullName: string | null };

export async function registrationOptions(config: Config, user: Named, existing: Passkey[]): Promise<RegistrationOptions> {
  const userName = user.email ?? user.username ?? user.phone ?? user.id;
  return (await library()).generateRegistrationOptions({
    rpName: config.webauthn.rpName,
    rpID: config.webauthn.rpId,
    userName,
    userID: userHandleOf(user.id),
    userDisplayName: user.fullName ?? userName,
    timeout: PASSKEY_CHALLENGE_TTL_MS,
    attestationType: "none",
    excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: transportsOf(p) })),
    authenticatorSelection: { residentKey: "required", requireResidentKey: true, userVerification: "preferred" },
  });
}

/** Request options; `allowed` empty: a discoverable sign-in, the authenticator offers what it holds. */
export async function requestOptions(config: Config, allowed: Passkey[]): Promise<RequestOptions> {
  return (await library()).generateAuthenticationOptions({
    rpID: config.webauthn.rpId,
    allowCredentials: allowed.map((p) => ({ id: p.credentialId, transports: transportsOf(p) })),
    timeout: PASSKEY_CHALLENGE_TTL_MS,
    userVerification: "preferred",
  });
}

/**
 * The challenge an answer claims to sign, read from its clientDataJSON before anything is checked:
 * only to find the stored challenge, which the verification then compares in full.
 */
export function claimedChallenge(credential: { response: { clientDataJSON: string } }): string | null {
  try {
    const data = JSON.parse(new TextDecoder().decode(fromBase64url(credential.response.clientDataJSON))) as unknown;
    const challenge = (data as { challenge?: unknown } | null)?.challenge;
    return typeof challenge === "string" && /^[A-Za-z0-9_-]{16,128}$/.test(challenge) ? challenge : null;
  } catch {
    return null;
  }
}

export async function checkRegistration(
  config: Config,
  response: RegistrationResponseJSON,
  expectedChallenge: string,
): Promise<{ ok: true; credential: RegisteredCredential } | Refusal> {
  try {
    const result = await (await library()).verifyRegistrationResponse({
      response,
      expectedChallenge,
      expectedOrigin: [...config.webauthn.origins],
      expectedRPID: config.webauthn.rpId,
      requireUserVerification: false,
    });
    if (!result.verified) return { ok: false, reason: "bad_signature", message: "registration not verified" };
    const info = result.registrationInfo;
    return {
      ok: true,
      credential: {
        credentialId: info.credential.id,
        publicKey: base64url(info.credential.publicKey),
        counter: info.credential.counter,
        transports: response.response.transports ?? [],
        backedUp: info.credentialBackedUp,
        deviceType: info.credentialDeviceType,
        aaguid: info.aaguid,
      },
    };
  } catch (err) {
    return refusalOf(err);
  }
}

/**
 * Checks an assertion by `passkey` against the challenge. The counter is not judged here but by
 * the caller, after the signature holds (src/domain/passkey-assertions.ts), so a forged answer
 * cannot raise a cloned-authenticator alarm.
 */
export async function checkAssertion(
  config: Config,
  response: AuthenticationResponseJSON,
  passkey: Passkey,
  expectedChallenge: string,
): Promise<{ ok: true; assertion: CheckedAssertion } | Refusal> {
  const handle = response.response.userHandle;
  if (handle !== undefined && handle !== base64url(userHandleOf(passkey.userId))) {
    return { ok: false, reason: "user_handle_mismatch", message: "the user handle names another user" };
  }
  try {
    const result = await (await library()).verifyAuthenticationResponse({
      response,
      expectedChallenge,
      expectedOrigin: [...config.webauthn.origins],
      expectedRPID: config.webauthn.rpId,
      // Counter 0: the library's own counter check is skipped; the caller's is made after the signature.
      credential: { id: passkey.credentialId, publicKey: new Uint8Array(fromBase64url(passkey.publicKey)), counter: 0, transports: transportsOf(passkey) },
      requireUserVerification: false,
    });
    if (!result.verified) return { ok: false, reason: "bad_signature", message: "signature not verified" };
    const info = result.authenticationInfo;
    return { ok: true, assertion: { newCounter: info.newCounter, userVerified: info.userVerified, backedUp: info.credentialBackedUp } };
  } catch (err) {
    return refusalOf(err);
  }
}

/** WebAuthn §7.2 step 22: a counter that does not go forward may be a cloned authenticator. */
export function counterGoesForward(stored: number, received: number): boolean {
  return (stored === 0 && received === 0) || received > stored;
}

function transportsOf(passkey: Passkey): AuthenticatorTransport[] {
  try {
    const parsed = JSON.parse(passkey.transports) as unknown;
    return Array.isArray(parsed) ? (parsed.filter((t) => typeof t === "string") as AuthenticatorTransport[]) : [];
  } catch {
    return [];
  }
}

/** The library says what failed in its error's message; the reason keeps it for the audit log. */
function refusalOf(err: unknown): Refusal {
  const message = (err instanceof Error ? err.message : String(err)).slice(0, 200);
  const reason: PasskeyFailure = /challenge/i.test(message)
    ? "challenge_mismatch"
    : /origin/i.test(message)
      ? "wrong_origin"
      : /RP ID/i.test(message)
        ? "wrong_rp_id"
        : /response type/i.test(message)
          ? "wrong_type"
          : /not present/i.test(message)
            ? "user_not_present"
            : "malformed";
  return { ok: false, reason, message };
}
