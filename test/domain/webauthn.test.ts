// The WebAuthn checks called directly (src/domain/webauthn.ts), with answers a software authenticator
// made and then damaged at random: neither check ever throws, whatever it is given; an assertion
// damaged anywhere is refused (the signature covers the rest); a registration is not signed, so a
// damaged one may pass, but only ever for the credential id the answer names.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { base64url, randomToken } from "../../src/domain/crypto";
import {
  checkAssertion,
  checkRegistration,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
} from "../../src/domain/webauthn";
import type { Passkey } from "../../src/storage/passkeys";
import { SoftwareAuthenticator, testDeps, type Algorithm } from "../helpers";

const { config } = testDeps().deps;
const USER_ID = "webauthn-domain-user";
const USER_HANDLE = base64url(new TextEncoder().encode(USER_ID));

const ASSERTION_FIELDS = ["clientDataJSON", "authenticatorData", "signature"] as const;
const REGISTRATION_FIELDS = ["clientDataJSON", "attestationObject"] as const;

type Damage = { kind: "flip"; at: number; bit: number } | { kind: "cut"; at: number } | { kind: "append"; byte: number };

const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("append" as const), byte: fc.integer({ min: 0, max: 255 }) }),
);

/** `field` (base64url) changed by `d`: never left as it was. */
function damaged(field: string, d: Damage): string {
  const bytes = Uint8Array.from(atob(field.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  if (d.kind === "append") return base64url(new Uint8Array([...bytes, d.byte]));
  if (d.kind === "cut") return base64url(bytes.slice(0, d.at % bytes.length));
  const out = new Uint8Array(bytes);
  out[d.at % out.length] = out[d.at % out.length]! ^ (1 << d.bit);
  return base64url(out);
}

async function registered(algorithm: Algorithm): Promise<{ authenticator: SoftwareAuthenticator; passkey: Passkey; response: RegistrationResponseJSON; challenge: string }> {
  const authenticator = await SoftwareAuthenticator.create({ algorithm });
  const challenge = randomToken(32);
  const response = (await authenticator.register({ challenge, user: { id: USER_HANDLE } })) as unknown as RegistrationResponseJSON;
  const checked = await checkRegistration(config, response, challenge);
  if (!checked.ok) throw new Error(`registration refused: ${checked.reason}`);
  const { credential } = checked;
  const passkey: Passkey = {
    ...credential,
    id: crypto.randomUUID(),
    userId: USER_ID,
    transports: JSON.stringify(credential.transports),
    name: "Passkey",
    createdAt: new Date(),
    lastUsedAt: null,
  };
  return { authenticator, passkey, response, challenge };
}

async function asserted(authenticator: SoftwareAuthenticator): Promise<{ response: AuthenticationResponseJSON; challenge: string }> {
  const challenge = randomToken(32);
  return { response: (await authenticator.assert({ challenge })) as unknown as AuthenticationResponseJSON, challenge };
}

describe("WebAuthn checks under damaged input", () => {
  for (const algorithm of ["ES256", "EdDSA", "RS256"] as const) {
    it(`${algorithm}: an assertion damaged in any byte of any signed field is refused, never thrown`, async () => {
      const { authenticator, passkey } = await registered(algorithm);
      const { response, challenge } = await asserted(authenticator);
      await expect(checkAssertion(config, response, passkey, challenge)).resolves.toMatchObject({ ok: true });
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...ASSERTION_FIELDS), damage, async (field, d) => {
          const broken = { ...response, response: { ...response.response, [field]: damaged(response.response[field], d) } };
          const result = await checkAssertion(config, broken, passkey, challenge);
          expect(result.ok).toBe(false);
        }),
        { numRuns: 150 },
      );
    });
  }

  it("a damaged registration never throws, and passes only for the id it names", async () => {
    const { response, challenge } = await registered("ES256");
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...REGISTRATION_FIELDS), damage, async (field, d) => {
        const broken = { ...response, response: { ...response.response, [field]: damaged(response.response[field], d) } };
        const result = await checkRegistration(config, broken, challenge);
        if (result.ok) expect(result.credential.credentialId).toBe(response.id);
      }),
      { numRuns: 200 },
    );
  });

  it("text that is not base64url, or any string at all, in any field is a refusal", async () => {
    const { authenticator, passkey, response: registration, challenge: registrationChallenge } = await registered("ES256");
    const { response, challenge } = await asserted(authenticator);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ASSERTION_FIELDS), fc.string({ maxLength: 120 }), async (field, text) => {
        const result = await checkAssertion(config, { ...response, response: { ...response.response, [field]: text } }, passkey, challenge);
        expect(result.ok).toBe(false);
      }),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...REGISTRATION_FIELDS), fc.string({ maxLength: 120 }), async (field, text) => {
        const result = await checkRegistration(config, { ...registration, response: { ...registration.response, [field]: text } }, registrationChallenge);
        expect(result).toMatchObject({ ok: false });
      }),
      { numRuns: 150 },
    );
  });

  it("a stored key that cannot be read is a malformed refusal, not a throw", async () => {
    const { authenticator, passkey } = await registered("ES256");
    const { response, challenge } = await asserted(authenticator);
    for (const publicKey of ["", "AA", "oA", base64url(new Uint8Array(77))]) {
      await expect(checkAssertion(config, response, { ...passkey, publicKey }, challenge)).resolves.toMatchObject({ ok: false, reason: "malformed" });
    }
  });
});
