// Development and test secrets: an Ed25519 signing key (JWK) two HMAC keys and the key that encrypts second-factor secrets, made on this machine.
import { generateKeyPairSync, randomBytes } from "node:crypto";

export function signingJwk(kid) {
  const { privateKey } = generateKeyPairSync("ed25519");
  return { ...privateKey.export({ format: "jwk" }), kid, alg: "EdDSA" };
}

export function devSecrets(kidPrefix = "dev") {
  return {
    JWT_SIGNING_KEYS: JSON.stringify([signingJwk(`${kidPrefix}-${Date.now().toString(36)}`)]),
    CODE_HMAC_SECRET: randomBytes(32).toString("base64url"),
    REFRESH_TOKEN_SECRET: randomBytes(32).toString("base64url"),
    MFA_ENCRYPTION_KEYS: `${kidPrefix}-mfa-1:${randomBytes(32).toString("base64url")}`,
  };
}
