// A software authenticator: what a browser and a platform authenticator would send, built by hand
// from a Web Crypto key pair (ES256 by default, EdDSA or RS256 on request), so the server's WebAuthn
// checks run for real in the Workers runtime. Registration answers carry a `none` attestation unless
// told otherwise (CBOR: fmt, attStmt, authData with the attested credential data and the COSE public
// key); assertions sign authData ‖ SHA-256(clientDataJSON), and an ES256 signature is converted from
// Web Crypto's P1363 form (r ‖ s) to the DER form WebAuthn uses.
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { base64url, fromBase64url } from "../../src/domain/crypto";
import { encodeCbor, type CborValue } from "./cbor";
import { authed, post, type Json } from "./http";
import { pollUntil } from "./time";

/** The relying party the tests run with (scripts/dev-vars.mjs). */
export const RP_ID = "localhost";
export const ORIGIN = "http://localhost:8787";

const FLAG = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 } as const;

export type AnswerOptions = {
  origin?: string;
  rpId?: string;
  /** User verification (UV flag); true unless said otherwise. */
  uv?: boolean;
  /** The counter to report; by default the authenticator's own, advanced by one. */
  counter?: number;
  /** The challenge to sign instead of the options' one. */
  challenge?: string;
  /** The user handle to return (assertions); by default the one registered. */
  userHandle?: string | null;
  /** clientData.crossOrigin: made inside a frame of another origin. */
  crossOrigin?: boolean;
  /** The attestation format and statement (registrations); by default `none` with an empty statement. */
  attestation?: { fmt: string; attStmt: Map<string, CborValue> };
  /** The COSE public key to attest instead of the authenticator's own (registrations). */
  coseKey?: Uint8Array;
  /** Changes the authenticator data once built, before it is attested or signed. */
  editAuthData?: (authData: Uint8Array) => Uint8Array;
};

export type Algorithm = "ES256" | "EdDSA" | "RS256";

export type CreationOptions = { challenge: string; user: { id: string }; excludeCredentials?: { id: string }[] };
export type RequestOptions = { challenge: string; allowCredentials?: { id: string }[]; challenge_id?: string };

const sha256 = async (bytes: Uint8Array) => new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(bytes)));
const utf8 = (text: string) => new TextEncoder().encode(text);

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function uint32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/** A DER INTEGER of an unsigned big-endian number: leading zeros dropped, a 0x00 before a high bit. */
function derInteger(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  let value = bytes.slice(i);
  if (value[0]! & 0x80) value = concat(new Uint8Array([0]), value);
  return concat(new Uint8Array([0x02, value.length]), value);
}

/** ECDSA P1363 (r ‖ s, 32 bytes each) to DER: SEQUENCE { INTEGER r, INTEGER s }. */
export function p1363ToDer(signature: Uint8Array): Uint8Array {
  const body = concat(derInteger(signature.slice(0, 32)), derInteger(signature.slice(32)));
  return concat(new Uint8Array([0x30, body.length]), body);
}

const KEY_PARAMS: Record<Algorithm, SubtleCryptoGenerateKeyAlgorithm> = {
  ES256: { name: "ECDSA", namedCurve: "P-256" },
  EdDSA: { name: "Ed25519" },
  RS256: { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
};

const SIGN_PARAMS: Record<Algorithm, SubtleCryptoSignAlgorithm> = {
  ES256: { name: "ECDSA", hash: "SHA-256" },
  EdDSA: { name: "Ed25519" },
  RS256: { name: "RSASSA-PKCS1-v1_5" },
};

export class SoftwareAuthenticator {
  counter = 0;
  userHandle: string | null = null;

  private constructor(
    private readonly keys: CryptoKeyPair,
    readonly credentialId: string,
    private readonly backedUp: boolean,
    readonly algorithm: Algorithm,
  ) {}

  static async create(options: { backedUp?: boolean; algorithm?: Algorithm } = {}): Promise<SoftwareAuthenticator> {
    const algorithm = options.algorithm ?? "ES256";
    const keys = (await crypto.subtle.generateKey(KEY_PARAMS[algorithm], true, ["sign", "verify"])) as CryptoKeyPair;
    return new SoftwareAuthenticator(keys, base64url(crypto.getRandomValues(new Uint8Array(32))), options.backedUp ?? true, algorithm);
  }

  /** The public key as a COSE_Key (RFC 9053): EC2 P-256, OKP Ed25519 or RSA. */
  async coseKey(): Promise<Uint8Array> {
    const jwk = (await crypto.subtle.exportKey("jwk", this.keys.publicKey)) as JsonWebKey;
    const b = (field: string | undefined) => new Uint8Array(fromBase64url(field!));
    const fields: [number, CborValue][] =
      this.algorithm === "ES256"
        ? [[1, 2], [3, -7], [-1, 1], [-2, b(jwk.x)], [-3, b(jwk.y)]] // kty EC2, alg ES256, crv P-256, x, y
        : this.algorithm === "EdDSA"
          ? [[1, 1], [3, -8], [-1, 6], [-2, b(jwk.x)]] // kty OKP, alg EdDSA, crv Ed25519, x
          : [[1, 3], [3, -257], [-1, b(jwk.n)], [-2, b(jwk.e)]]; // kty RSA, alg RS256, n, e
    return encodeCbor(new Map(fields));
  }

  /** navigator.credentials.create() answered: a RegistrationResponseJSON for `options`. */
  async register(options: CreationOptions, answer: AnswerOptions = {}): Promise<Json> {
    this.userHandle = options.user.id;
    const id = fromBase64url(this.credentialId);
    const attested = concat(new Uint8Array(16), new Uint8Array([id.length >> 8, id.length & 0xff]), id, answer.coseKey ?? (await this.coseKey()));
    const authData = await this.authData(answer, FLAG.AT, 0, attested);
    const attestation = answer.attestation ?? { fmt: "none", attStmt: new Map() };
    const attestationObject = encodeCbor(
      new Map<string, CborValue>([
        ["fmt", attestation.fmt],
        ["attStmt", attestation.attStmt],
        ["authData", authData],
      ]),
    );
    return this.credential({
      clientDataJSON: this.clientData("webauthn.create", answer.challenge ?? options.challenge, answer),
      attestationObject: base64url(attestationObject),
      transports: ["internal", "hybrid"],
    });
  }

  /** The PublicKeyCredential JSON around an authenticator's `response`, as a platform authenticator sends it. */
  private credential(response: Json): Json {
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: "public-key",
      authenticatorAttachment: "platform",
      clientExtensionResults: {},
      response,
    };
  }

  /** navigator.credentials.get() answered: an AuthenticationResponseJSON for `options`. */
  async assert(options: RequestOptions, answer: AnswerOptions = {}): Promise<Json> {
    const counter = answer.counter ?? this.counter + 1;
    if (answer.counter === undefined) this.counter = counter;
    const authData = await this.authData(answer, 0, counter);
    const clientDataJSON = this.clientData("webauthn.get", answer.challenge ?? options.challenge, answer);
    const signed = concat(authData, await sha256(fromBase64url(clientDataJSON)));
    const signature = await this.sign(signed);
    const userHandle = answer.userHandle === undefined ? this.userHandle : answer.userHandle;
    return this.credential({
      clientDataJSON,
      authenticatorData: base64url(authData),
      signature: base64url(signature),
      ...(userHandle ? { userHandle } : {}),
    });
  }

  /** A signature over `message` as WebAuthn carries it (DER for ECDSA). */
  async sign(message: Uint8Array): Promise<Uint8Array> {
    const raw = new Uint8Array(await crypto.subtle.sign(SIGN_PARAMS[this.algorithm], this.keys.privateKey, new Uint8Array(message)));
    return this.algorithm === "ES256" ? p1363ToDer(raw) : raw;
  }

  private async authData(answer: AnswerOptions, extraFlags: number, counter: number, attested = new Uint8Array()): Promise<Uint8Array> {
    const flags = FLAG.UP | (answer.uv === false ? 0 : FLAG.UV) | (this.backedUp ? FLAG.BE | FLAG.BS : 0) | extraFlags;
    const authData = concat(await sha256(utf8(answer.rpId ?? RP_ID)), new Uint8Array([flags]), uint32(counter), attested);
    return answer.editAuthData ? answer.editAuthData(authData) : authData;
  }

  private clientData(type: string, challenge: string, answer: AnswerOptions): string {
    return base64url(utf8(JSON.stringify({ type, challenge, origin: answer.origin ?? ORIGIN, crossOrigin: answer.crossOrigin ?? false })));
  }
}

/** Registers a new software passkey for the holder of `token` through the routes. */
export async function registerPasskey(
  token: string,
  name?: string,
  algorithm: Algorithm = "ES256",
): Promise<{ authenticator: SoftwareAuthenticator; passkey: Json }> {
  const authenticator = await SoftwareAuthenticator.create({ algorithm });
  const options = await passkeyCreationOptions(token);
  const res = await post("/users/me/passkeys", { credential: await authenticator.register(options), ...(name ? { name } : {}) }, {
    authorization: `Bearer ${token}`,
  });
  expect(res.status).toBe(201);
  return { authenticator, passkey: await res.json<Json>() };
}

export async function passkeyCreationOptions(token: string): Promise<CreationOptions & Json> {
  const res = await authed(token, "/users/me/passkeys/options", { method: "POST" });
  expect(res.status).toBe(200);
  return res.json<CreationOptions & Json>();
}

/** POST /auth/passkey/options: a discoverable sign-in's options and challenge_id. */
export async function passkeySignInOptions(headers: Record<string, string> = {}): Promise<RequestOptions & { challenge_id: string }> {
  const res = await post("/auth/passkey/options", {}, headers);
  expect(res.status).toBe(200);
  return res.json<RequestOptions & { challenge_id: string }>();
}

/** Signs in with `authenticator` through the routes; the answer is the test's to judge. */
export async function passkeySignIn(authenticator: SoftwareAuthenticator, answer: AnswerOptions = {}, deviceId = "passkey-device"): Promise<Response> {
  const options = await passkeySignInOptions();
  const credential = await authenticator.assert(options, answer);
  return post("/auth/passkey/verify", { challenge_id: options.challenge_id, credential, device_id: deviceId });
}

/**
 * The `reason` of each audit row with `action` about the user (subject or actor), oldest first, once
 * at least `atLeast` are written (the audit is written after the response).
 */
export async function auditReasons(action: string, userId: string, atLeast = 1): Promise<string[]> {
  const read = async () => {
    const { results } = await env.DB.prepare(
      "SELECT details FROM audit_events WHERE action = ?1 AND (subject_id = ?2 OR actor_id = ?2) ORDER BY at, id",
    )
      .bind(action, userId)
      .all<{ details: string | null }>();
    return results.map((r) => (JSON.parse(r.details ?? "{}") as { reason?: string }).reason ?? "");
  };
  return pollUntil(read, (reasons) => reasons.length >= atLeast);
}
