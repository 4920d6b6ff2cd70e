import { decodeCBORToNativeValue, decodeCBORToNativeValueNoLeftoverBytes } from "@oslojs/cbor";
import {
  ClientDataType,
  createAssertionSignatureMessage,
  parseAuthenticatorData,
  parseClientDataJSON,
  type AuthenticatorData,
} from "@oslojs/webauthn";
import type { Config } from "../config";
import type { Passkey } from "../storage/passkeys";
import { base64url, fromBase64url, randomToken, timingSafeEqual } from "./crypto";
import { importCredentialKey, PASSKEY_ALGORITHMS, verifyCredentialSignature } from "./webauthn-keys";
import type {
  AuthenticationResponseJSON,
  AuthenticatorTransport,
  CredentialDescriptorJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "./webauthn-json";

// WebAuthn, kept to this module: options for the browser, and the checks of its answers against
// the configured relying party (WEBAUTHN_RP_ID, WEBAUTHN_ORIGINS), following WebAuthn Level 3
// §7.1 (registration) and §7.2 (assertion). @oslojs/webauthn parses client data, authenticator
// data and COSE keys; Web Crypto checks signatures (src/domain/webauthn-keys.ts). A failed check
// is a reason for the audit log, never for the client; malformed input is a refusal, never a throw.

/** Challenges live five minutes; the browser's own timeout says the same. */
export const PASSKEY_CHALLENGE_TTL_MS = 5 * 60 * 1000;

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
  return {
    challenge: randomToken(32),
    rp: { name: config.webauthn.rpName, id: config.webauthn.rpId },
    user: { id: base64url(userHandleOf(user.id)), name: userName, displayName: user.fullName ?? userName },
    pubKeyCredParams: PASSKEY_ALGORITHMS.map((alg) => ({ alg, type: "public-key" as const })),
    timeout: PASSKEY_CHALLENGE_TTL_MS,
    // No attestation asked for: any authenticator model may register (docs/security.md, Passkeys).
    attestation: "none",
    excludeCredentials: existing.map(descriptorOf),
    authenticatorSelection: { residentKey: "required", requireResidentKey: true, userVerification: "preferred" },
    extensions: { credProps: true },
    hints: [],
  };
}

/** Request options; `allowed` empty: a discoverable sign-in, the authenticator offers what it holds. */
export async function requestOptions(config: Config, allowed: Passkey[]): Promise<RequestOptions> {
  return {
    rpId: config.webauthn.rpId,
    challenge: randomToken(32),
    allowCredentials: allowed.map(descriptorOf),
    timeout: PASSKEY_CHALLENGE_TTL_MS,
    userVerification: "preferred",
  };
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

/** §7.1: a new credential made for `expectedChallenge`. Its attestation statement is not trusted. */
export async function checkRegistration(
  config: Config,
  response: RegistrationResponseJSON,
  expectedChallenge: string,
): Promise<{ ok: true; credential: RegisteredCredential } | Refusal> {
  try {
    if (response.type !== "public-key" || response.id !== response.rawId) return malformed("id and rawId differ");
    const clientDataJSON = bytesOf(response.response.clientDataJSON);
    const refused = checkClientData(config, clientDataJSON, ClientDataType.Create, expectedChallenge);
    if (refused) return refused;
    const authData = readAuthenticatorData(authDataOfAttestation(bytesOf(response.response.attestationObject)));
    const refusedData = checkAuthenticatorData(config, authData.parsed);
    if (refusedData) return refusedData;
    const credential = authData.parsed.credential;
    if (!credential || !authData.publicKey) return malformed("no attested credential data");
    // §7.1 bounds the id to 1023 bytes; it must be the one the browser reports, the one looked up at sign-in.
    if (credential.id.length < 1 || credential.id.length > 1023) return malformed("credential id length");
    if (base64url(credential.id) !== response.id) return malformed("credential id differs from the answer's id");
    await importCredentialKey(authData.publicKey);
    return {
      ok: true,
      credential: {
        credentialId: response.id,
        // The COSE key's bytes as the authenticator sent them, as stored since passkeys began.
        publicKey: base64url(authData.publicKey),
        counter: authData.parsed.signatureCounter,
        transports: response.response.transports ?? [],
        backedUp: authData.backedUp,
        deviceType: authData.backupEligible ? "multiDevice" : "singleDevice",
        aaguid: uuidOf(credential.authenticatorAAGUID),
      },
    };
  } catch (err) {
    return malformed(err);
  }
}

/**
 * §7.2: an assertion by `passkey` for `expectedChallenge`. The counter is not judged here but by
 * the caller, after the signature holds (src/domain/passkey-sign-in.ts), so a forged answer
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
    if (response.type !== "public-key" || response.id !== response.rawId || response.id !== passkey.credentialId) {
      return malformed("the answer's id does not name this passkey");
    }
    const clientDataJSON = bytesOf(response.response.clientDataJSON);
    const refused = checkClientData(config, clientDataJSON, ClientDataType.Get, expectedChallenge);
    if (refused) return refused;
    const rawAuthData = bytesOf(response.response.authenticatorData);
    const authData = readAuthenticatorData(rawAuthData);
    const refusedData = checkAuthenticatorData(config, authData.parsed);
    if (refusedData) return refusedData;
    const key = await importCredentialKey(fromBase64url(passkey.publicKey));
    const message = createAssertionSignatureMessage(rawAuthData, clientDataJSON);
    if (!(await verifyCredentialSignature(key, message, bytesOf(response.response.signature)))) {
      return { ok: false, reason: "bad_signature", message: "signature not verified" };
    }
    const { signatureCounter, userVerified } = authData.parsed;
    return { ok: true, assertion: { newCounter: signatureCounter, userVerified, backedUp: authData.backedUp } };
  } catch (err) {
    return malformed(err);
  }
}

/** WebAuthn §7.2 step 22: a counter that does not go forward may be a cloned authenticator. */
export function counterGoesForward(stored: number, received: number): boolean {
  return (stored === 0 && received === 0) || received > stored;
}

/** Client data (§5.8.1): type, challenge (constant time), origin, not made in a cross-origin frame. */
function checkClientData(config: Config, json: Uint8Array, type: ClientDataType, expectedChallenge: string): Refusal | null {
  const data = parseClientDataJSON(json);
  if (data.type !== type) return { ok: false, reason: "wrong_type", message: `client data type ${ClientDataType[data.type]}` };
  if (!timingSafeEqual(base64url(data.challenge), expectedChallenge)) {
    return { ok: false, reason: "challenge_mismatch", message: "client data challenge differs" };
  }
  if (!config.webauthn.origins.includes(data.origin)) {
    return { ok: false, reason: "wrong_origin", message: `origin ${data.origin.slice(0, 100)}` };
  }
  // Made inside a frame of another site: that site, not ours, chose what the user saw.
  if (data.crossOrigin === true) return { ok: false, reason: "wrong_origin", message: "made in a cross-origin frame" };
  return null;
}

/** The hash of our RP ID and the user-present flag (§7.1, §7.2). */
function checkAuthenticatorData(config: Config, data: AuthenticatorData): Refusal | null {
  if (!data.verifyRelyingPartyIdHash(config.webauthn.rpId)) return { ok: false, reason: "wrong_rp_id", message: "RP ID hash differs" };
  if (!data.userPresent) return { ok: false, reason: "user_not_present", message: "user presence flag not set" };
  return null;
}

const FLAG = { BE: 0x08, BS: 0x10, ED: 0x80 } as const;

type ReadAuthenticatorData = { parsed: AuthenticatorData; publicKey: Uint8Array | null; backupEligible: boolean; backedUp: boolean };

/**
 * Authenticator data (§6.1): @oslojs/webauthn reads the fixed part and the attested credential;
 * here the rest. The COSE key's own bytes (stored as sent), the backup flags, which the parser
 * does not expose, and the layout: after the key, only the extensions the ED flag announces.
 */
function readAuthenticatorData(bytes: Uint8Array): ReadAuthenticatorData {
  const parsed = parseAuthenticatorData(bytes);
  const flags = bytes[32]!;
  let end = 37;
  let publicKey: Uint8Array | null = null;
  if (parsed.credential) {
    const start = 37 + 16 + 2 + parsed.credential.id.length;
    const [, size] = decodeCBORToNativeValue(bytes.subarray(start), 2);
    publicKey = bytes.slice(start, start + size);
    end = start + size;
  }
  if (flags & FLAG.ED) {
    const [extensions, size] = decodeCBORToNativeValue(bytes.subarray(end), 8);
    if (!isMap(extensions)) throw new Error("authenticator data: extensions not a map");
    end += size;
  }
  if (end !== bytes.length) throw new Error("authenticator data: unexpected bytes at the end");
  const backupEligible = (flags & FLAG.BE) !== 0;
  const backedUp = (flags & FLAG.BS) !== 0;
  // §6.1.3: a credential that cannot be backed up cannot be backed up.
  if (backedUp && !backupEligible) throw new Error("authenticator data: backed up but not eligible");
  return { parsed, publicKey, backupEligible, backedUp };
}

/**
 * The attestation object (§6.5): its authData. `fmt` and `attStmt` are read for their shape only and
 * never trusted, whatever the format: this service asks for attestation "none" and keeps no trust anchors.
 */
function authDataOfAttestation(bytes: Uint8Array): Uint8Array {
  const decoded = decodeCBORToNativeValueNoLeftoverBytes(bytes, 4) as unknown;
  if (!isMap(decoded) || typeof decoded.fmt !== "string" || !isMap(decoded.attStmt) || !(decoded.authData instanceof Uint8Array)) {
    throw new Error("attestation object: not { fmt, attStmt, authData }");
  }
  return decoded.authData;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** Strict base64url: the route's schema says the same, but this module trusts no caller with it. */
function bytesOf(text: string): Uint8Array {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("not base64url");
  return fromBase64url(text);
}

function uuidOf(aaguid: Uint8Array): string {
  const hex = Array.from(aaguid, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function descriptorOf(passkey: Passkey): CredentialDescriptorJSON {
  return { id: passkey.credentialId, type: "public-key", transports: transportsOf(passkey) };
}

function transportsOf(passkey: Passkey): AuthenticatorTransport[] {
  try {
    const parsed = JSON.parse(passkey.transports) as unknown;
    return Array.isArray(parsed) ? (parsed.filter((t) => typeof t === "string") as AuthenticatorTransport[]) : [];
  } catch {
    return [];
  }
}

/** Anything unreadable in an answer: the parser's message goes to the audit log, not to the client. */
function malformed(err: unknown): Refusal {
  const message = typeof err === "string" ? err : err instanceof Error ? err.message : String(err);
  return { ok: false, reason: "malformed", message: message.slice(0, 200) };
}
