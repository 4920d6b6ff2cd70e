import { decodeCBORToNativeValueNoLeftoverBytes } from "@oslojs/cbor";
import { decodePKIXECDSASignature, ECDSAPublicKey, p256 } from "@oslojs/crypto/ecdsa";
import { RSAPublicKey } from "@oslojs/crypto/rsa";
import {
  coseAlgorithmEdDSA,
  coseAlgorithmES256,
  coseAlgorithmRS256,
  coseEllipticCurveEd25519,
  coseEllipticCurveP256,
  COSEKeyType,
  COSEPublicKey,
} from "@oslojs/webauthn";

// A passkey's public key as the authenticator gave it (a COSE_Key, RFC 9052 §7), read by
// @oslojs/webauthn and imported into Web Crypto, which checks the signatures. Three algorithms,
// the ones every platform authenticator uses: ES256 (P-256), EdDSA (Ed25519) and RS256
// (RSA-2048, Windows Hello). Anything else, or a key whose fields disagree, throws.

/** Offered at registration in this order of preference (pubKeyCredParams). */
export const PASSKEY_ALGORITHMS = [coseAlgorithmES256, coseAlgorithmEdDSA, coseAlgorithmRS256] as const;

export type CredentialKey = { algorithm: number; key: CryptoKey };

/** Parses and imports a COSE public key; throws on any other algorithm or a malformed key. */
export async function importCredentialKey(cose: Uint8Array): Promise<CredentialKey> {
  const decoded = decodeCBORToNativeValueNoLeftoverBytes(cose, 2) as unknown;
  if (typeof decoded !== "object" || decoded === null || Array.isArray(decoded)) throw new Error("COSE key: not a map");
  const key = new COSEPublicKey(decoded);
  const algorithm = key.algorithm();
  const type = key.type();
  if (algorithm === coseAlgorithmES256 && type === COSEKeyType.EC2) {
    const { curve, x, y } = key.ec2();
    if (curve !== coseEllipticCurveP256) throw new Error("COSE key: ES256 on a curve other than P-256");
    const raw = new ECDSAPublicKey(p256, x, y).encodeSEC1Uncompressed();
    return { algorithm, key: await crypto.subtle.importKey("raw", raw, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]) };
  }
  if (algorithm === coseAlgorithmEdDSA && type === COSEKeyType.OKP) {
    const { curve, x } = key.okp();
    if (curve !== coseEllipticCurveEd25519 || x.length !== 32) throw new Error("COSE key: EdDSA other than Ed25519");
    return { algorithm, key: await crypto.subtle.importKey("raw", x, { name: "Ed25519" }, false, ["verify"]) };
  }
  if (algorithm === coseAlgorithmRS256 && type === COSEKeyType.RSA) {
    // rsa() accepts a 2048-bit modulus with a 3-byte exponent only: Windows Hello's keys.
    const { n, e } = key.rsa();
    const spki = new RSAPublicKey(n, e).encodePKIX();
    return { algorithm, key: await crypto.subtle.importKey("spki", spki, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["verify"]) };
  }
  throw new Error(`COSE key: algorithm ${algorithm} with key type ${type} not accepted`);
}

/**
 * Whether `signature` by `credential` covers `message` (authenticatorData ‖ SHA-256(clientDataJSON)).
 * False for a well-formed signature that does not verify; throws for one that is not well-formed.
 */
export async function verifyCredentialSignature(credential: CredentialKey, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  switch (credential.algorithm) {
    case coseAlgorithmES256: {
      // WebAuthn sends ECDSA signatures DER-encoded (§6.5.5); Web Crypto verifies r ‖ s.
      const rs = decodePKIXECDSASignature(signature).encodeIEEEP1363(p256);
      return crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, credential.key, rs, message);
    }
    case coseAlgorithmEdDSA:
      if (signature.length !== 64) throw new Error("EdDSA signature: not 64 bytes");
      return crypto.subtle.verify({ name: "Ed25519" }, credential.key, signature, message);
    case coseAlgorithmRS256:
      if (signature.length !== 256) throw new Error("RS256 signature: not 256 bytes");
      return crypto.subtle.verify({ name: "RSASSA-PKCS1-v1_5" }, credential.key, signature, message);
    default:
      throw new Error(`signature: algorithm ${credential.algorithm} not accepted`);
  }
}
