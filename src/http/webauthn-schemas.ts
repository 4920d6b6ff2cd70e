import * as z from "zod";

// WebAuthn as JSON (WebAuthn Level 3 §5.1.8, `toJSON()` of a PublicKeyCredential): the answers a
// browser sends, bounded so nothing oversized reaches the verifier, and the options it is sent.
// Fields a browser adds beyond these are dropped, not refused.

const b64url = (max: number) => z.string().regex(/^[A-Za-z0-9_-]*$/, "base64url").max(max);

const TRANSPORTS = ["ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"] as const;
type Transport = (typeof TRANSPORTS)[number];

/** Transports as the browser reports them; ones this service does not know are left out. */
const Transports = z
  .array(z.string().max(32))
  .max(16)
  .transform((list) => list.filter((t): t is Transport => (TRANSPORTS as readonly string[]).includes(t)));

const CredentialBase = {
  id: b64url(1366).min(1),
  rawId: b64url(1366).min(1),
  type: z.literal("public-key"),
  authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
};

export const RegistrationResponseSchema = z
  .object({
    ...CredentialBase,
    response: z.object({
      clientDataJSON: b64url(16_384).min(1),
      attestationObject: b64url(65_536).min(1),
      authenticatorData: b64url(65_536).optional(),
      transports: Transports.optional(),
      publicKeyAlgorithm: z.number().int().optional(),
      publicKey: b64url(16_384).optional(),
    }),
  })
  .meta({ id: "RegistrationResponseJSON", description: "A new credential, as PublicKeyCredential.toJSON() gives it" });

export const AuthenticationResponseSchema = z
  .object({
    ...CredentialBase,
    response: z.object({
      clientDataJSON: b64url(16_384).min(1),
      authenticatorData: b64url(65_536).min(1),
      signature: b64url(16_384).min(1),
      userHandle: b64url(1366).optional(),
    }),
  })
  .meta({ id: "AuthenticationResponseJSON", description: "An assertion, as PublicKeyCredential.toJSON() gives it" });

const Descriptor = z.object({
  id: z.string(),
  type: z.literal("public-key"),
  transports: z.array(z.string()).optional(),
});

export const CreationOptionsSchema = z
  .looseObject({
    rp: z.object({ name: z.string(), id: z.string().optional() }),
    user: z.object({ id: z.string(), name: z.string(), displayName: z.string() }),
    challenge: z.string(),
    pubKeyCredParams: z.array(z.object({ alg: z.number(), type: z.literal("public-key") })),
    timeout: z.number().optional(),
    excludeCredentials: z.array(Descriptor).optional(),
    authenticatorSelection: z
      .object({
        authenticatorAttachment: z.string().optional(),
        residentKey: z.string().optional(),
        requireResidentKey: z.boolean().optional(),
        userVerification: z.string().optional(),
      })
      .optional(),
    attestation: z.string().optional(),
    extensions: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: "PublicKeyCredentialCreationOptionsJSON", description: "For PublicKeyCredential.parseCreationOptionsFromJSON()" });

const requestOptionFields = {
  challenge: z.string(),
  timeout: z.number().optional(),
  rpId: z.string().optional(),
  allowCredentials: z.array(Descriptor).optional(),
  userVerification: z.string().optional(),
  extensions: z.record(z.string(), z.unknown()).optional(),
};

export const RequestOptionsSchema = z
  .looseObject(requestOptionFields)
  .meta({ id: "PublicKeyCredentialRequestOptionsJSON", description: "For PublicKeyCredential.parseRequestOptionsFromJSON()" });

export const ChallengedRequestOptionsSchema = z
  .looseObject({
    ...requestOptionFields,
    challenge_id: z.uuid().meta({ description: "Sent back with the answer: names the challenge" }),
  })
  .meta({ id: "ChallengedRequestOptions", description: "Request options and the challenge_id the answer must carry" });

export const PasskeySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
    backed_up: z.boolean().meta({ description: "Synced by its provider (a multi-device passkey)" }),
    transports: z.array(z.string()),
  })
  .meta({ id: "Passkey" });

export const PasskeyNameField = z.string().trim().min(1).max(100);
