// WebAuthn as JSON (WebAuthn Level 3 §5.1.8): the options this service sends to the browser and the
// answers it gets back, as `PublicKeyCredential.toJSON()` gives them. Binary fields are base64url
// without padding. Declared here, not imported, so that no WebAuthn library reaches the Worker for types.

export type AuthenticatorTransport = "ble" | "cable" | "hybrid" | "internal" | "nfc" | "smart-card" | "usb";

export type CredentialDescriptorJSON = { id: string; type: "public-key"; transports?: AuthenticatorTransport[] };

export type PublicKeyCredentialCreationOptionsJSON = {
  challenge: string;
  rp: { name: string; id: string };
  user: { id: string; name: string; displayName: string };
  pubKeyCredParams: { alg: number; type: "public-key" }[];
  timeout: number;
  attestation: "none";
  excludeCredentials: CredentialDescriptorJSON[];
  authenticatorSelection: {
    residentKey: "required" | "preferred" | "discouraged";
    requireResidentKey: boolean;
    userVerification: "required" | "preferred" | "discouraged";
  };
  extensions: { credProps: boolean };
  hints: string[];
};

export type PublicKeyCredentialRequestOptionsJSON = {
  rpId: string;
  challenge: string;
  allowCredentials: CredentialDescriptorJSON[];
  timeout: number;
  userVerification: "required" | "preferred" | "discouraged";
};

type CredentialJSON = {
  id: string;
  rawId: string;
  type: "public-key";
  authenticatorAttachment?: "platform" | "cross-platform";
  clientExtensionResults: Record<string, unknown>;
};

export type RegistrationResponseJSON = CredentialJSON & {
  response: {
    clientDataJSON: string;
    attestationObject: string;
    authenticatorData?: string;
    transports?: AuthenticatorTransport[];
    publicKeyAlgorithm?: number;
    publicKey?: string;
  };
};

export type AuthenticationResponseJSON = CredentialJSON & {
  response: { clientDataJSON: string; authenticatorData: string; signature: string; userHandle?: string };
};
