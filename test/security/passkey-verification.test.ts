// Invariant: a passkey answer is accepted only when every part the server checks itself holds:
// client data of the right type, challenge and origin, made outside any cross-origin frame;
// authenticator data with our RP ID hash, the user-present flag and no bytes unaccounted for; at
// registration an attested credential whose id is the answer's and whose key is ES256, EdDSA or
// RS256; at sign-in a signature by that key. The attestation statement is never trusted, whatever
// its format. Anything unreadable is 400 invalid_passkey with reason `malformed`, never a 500.
import { describe, expect, it } from "vitest";
import { base64url, fromBase64url } from "../../src/domain/crypto";
import {
  auditReasons,
  customerUser,
  encodeCbor,
  expectProblem,
  passkeyCreationOptions,
  passkeySignIn,
  passkeySignInOptions,
  post,
  registerPasskey,
  SoftwareAuthenticator,
  type AnswerOptions,
  type CborValue,
  type Json,
} from "../helpers";

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Answers the user's creation options with `authenticator`; `edit` changes the answer's JSON. */
async function register(token: string, authenticator: SoftwareAuthenticator, answer: AnswerOptions = {}, edit = (c: Json) => c): Promise<Response> {
  const credential = await authenticator.register(await passkeyCreationOptions(token), answer);
  return post("/users/me/passkeys", { credential: edit(credential) }, bearer(token));
}

/** A discoverable sign-in whose signature `editSignature` may change after it is made. */
async function signIn(authenticator: SoftwareAuthenticator, answer: AnswerOptions = {}, editSignature = (s: Uint8Array) => s): Promise<Response> {
  const options = await passkeySignInOptions();
  const credential = await authenticator.assert(options, answer);
  credential.response.signature = base64url(editSignature(fromBase64url(credential.response.signature)));
  return post("/auth/passkey/verify", { challenge_id: options.challenge_id, credential, device_id: "verification" });
}

async function expectRegistrationRefused(res: Response, userId: string, reasons: string[]): Promise<void> {
  await expectProblem(res, 400, "invalid_passkey");
  expect(await auditReasons("passkey.registration_failed", userId, reasons.length)).toEqual(reasons);
}

async function expectSignInRefused(res: Response, userId: string, reason: string): Promise<void> {
  const body = await expectProblem(res, 400, "invalid_passkey");
  expect(JSON.stringify(body)).not.toContain(reason);
  expect(await auditReasons("passkey.failed", userId)).toContain(reason);
}

const flipBit = (at: number) => (bytes: Uint8Array) => {
  const out = new Uint8Array(bytes);
  const i = at < 0 ? out.length + at : at;
  out[i] = out[i]! ^ 0x01;
  return out;
};

describe("passkey algorithms", () => {
  for (const algorithm of ["EdDSA", "RS256"] as const) {
    it(`registers and signs in with an ${algorithm} passkey; a signature with one bit flipped is bad_signature`, async () => {
      const { token, id } = await customerUser();
      const { authenticator } = await registerPasskey(token, undefined, algorithm);
      expect((await signIn(authenticator)).status).toBe(200);
      await expectSignInRefused(await signIn(authenticator, {}, flipBit(-1)), id, "bad_signature");
      expect((await signIn(authenticator)).status).toBe(200);
    });
  }

  it("an ES256 signature with one bit flipped is bad_signature; one that is not DER is malformed", async () => {
    const { token, id } = await customerUser();
    const { authenticator } = await registerPasskey(token);
    await expectSignInRefused(await signIn(authenticator, {}, flipBit(-1)), id, "bad_signature");
    // Web Crypto's own form, r ‖ s, is not what WebAuthn sends.
    await expectSignInRefused(await signIn(authenticator, {}, () => crypto.getRandomValues(new Uint8Array(64))), id, "malformed");
    // DER with a byte after the sequence.
    await expectSignInRefused(await signIn(authenticator, {}, (s) => new Uint8Array([...s, 0])), id, "malformed");
    expect((await signIn(authenticator)).status).toBe(200);
  });

  it("refuses at registration a key of another algorithm (ES384) as malformed", async () => {
    const { token, id } = await customerUser();
    const es384 = encodeCbor(
      new Map<number, Uint8Array | number>([
        [1, 2],
        [3, -35],
        [-1, 2],
        [-2, crypto.getRandomValues(new Uint8Array(48))],
        [-3, crypto.getRandomValues(new Uint8Array(48))],
      ]),
    );
    await expectRegistrationRefused(await register(token, await SoftwareAuthenticator.create(), { coseKey: es384 }), id, ["malformed"]);
  });
});

describe("registration: what is checked and what is not", () => {
  it("accepts a packed attestation statement, or a format it does not know, without trusting either", async () => {
    const { token } = await customerUser();
    const packed = new Map<string, CborValue>([
      ["alg", -7],
      ["sig", crypto.getRandomValues(new Uint8Array(71))],
      ["x5c", [crypto.getRandomValues(new Uint8Array(300))]],
    ]);
    const authenticator = await SoftwareAuthenticator.create();
    expect((await register(token, authenticator, { attestation: { fmt: "packed", attStmt: packed } })).status).toBe(201);
    expect((await signIn(authenticator)).status).toBe(200);
    const other = await SoftwareAuthenticator.create();
    expect((await register(token, other, { attestation: { fmt: "vendor-specific", attStmt: new Map([["x", 1]]) } })).status).toBe(201);
  });

  it("refuses a wrong RP ID hash, a missing user-present flag and clientData from a cross-origin frame", async () => {
    const { token, id } = await customerUser();
    const authenticator = await SoftwareAuthenticator.create();
    await expectRegistrationRefused(await register(token, authenticator, { editAuthData: flipBit(0) }), id, ["wrong_rp_id"]);
    await expectRegistrationRefused(await register(token, authenticator, { editAuthData: flipBit(32) }), id, ["wrong_rp_id", "user_not_present"]);
    await expectRegistrationRefused(await register(token, authenticator, { crossOrigin: true }), id, ["wrong_rp_id", "user_not_present", "wrong_origin"]);
  });

  it("refuses truncated or overlong authenticator data, an id not the attested one and impossible flags as malformed", async () => {
    const { token, id } = await customerUser();
    const authenticator = await SoftwareAuthenticator.create({ backedUp: false });
    const attempts: Array<[AnswerOptions, (c: Json) => Json]> = [
      [{ editAuthData: (d) => d.slice(0, d.length - 10) }, (c) => c], // cut inside the COSE key
      [{ editAuthData: (d) => d.slice(0, 36) }, (c) => c], // cut inside the counter
      [{ editAuthData: (d) => new Uint8Array([...d, 0xa0]) }, (c) => c], // a map after the key, no ED flag
      [{ editAuthData: (d) => d.map((b, i) => (i === 32 ? b | 0x10 : b)) }, (c) => c], // backed up, not eligible
      [{}, (c) => ({ ...c, id: base64url(new Uint8Array(32)), rawId: base64url(new Uint8Array(32)) })],
      [{}, (c) => ({ ...c, response: { ...c.response, attestationObject: "oWNmbXRkbm9uZQ" } })], // { fmt: "none" } only
      [{}, (c) => ({ ...c, response: { ...c.response, attestationObject: "_w" } })], // not CBOR
    ];
    for (const [answer, edit] of attempts) {
      await expectProblem(await register(token, authenticator, answer, edit), 400, "invalid_passkey");
    }
    expect(await auditReasons("passkey.registration_failed", id, attempts.length)).toEqual(attempts.map(() => "malformed"));
    // The same authenticator, answering properly, registers.
    expect((await register(token, authenticator)).status).toBe(201);
  });
});

describe("sign-in: what is checked", () => {
  it("refuses clientData from a cross-origin frame", async () => {
    const { token, id } = await customerUser();
    const { authenticator } = await registerPasskey(token);
    await expectSignInRefused(await passkeySignIn(authenticator, { crossOrigin: true }), id, "wrong_origin");
  });

  it("refuses truncated authenticator data and bytes after it as malformed, even when signed", async () => {
    const { token, id } = await customerUser();
    const { authenticator } = await registerPasskey(token);
    await expectSignInRefused(await signIn(authenticator, { editAuthData: (d) => d.slice(0, 36) }), id, "malformed");
    await expectSignInRefused(await signIn(authenticator, { editAuthData: (d) => d.slice(0, 20) }), id, "malformed");
    await expectSignInRefused(await signIn(authenticator, { editAuthData: (d) => new Uint8Array([...d, 0]) }), id, "malformed");
    await expectSignInRefused(await signIn(authenticator, { editAuthData: flipBit(32) }), id, "user_not_present");
    expect((await signIn(authenticator)).status).toBe(200);
  });
});
