import { decodeCBORToNativeValueNoLeftoverBytes } from "@oslojs/cbor";
import {
  coseAlgorithmEdDSA,
  coseAlgorithmES256,
  coseAlgorithmRS256,
  coseEllipticCurveEd25519,
  coseEllipticCurveP256,
  COSEKeyType,
  COSEPublicKey,
} from "@oslojs/webauthn";
import { base64url } from "./crypto";

// A passkey's public key as the authenticator gave it (a COSE_Key, RFC 9052 §7), read by
// @oslojs/webauthn and imported into Web Crypto as a JWK; Web Crypto checks the signatures. Three
// algorithms, the ones platform authenticators use: ES256 (P-256), EdDSA (Ed25519) and RS256
// (RSA-2048, Windows Hello). Anything else, or a key whose fields disagree, throws. The only
// encoding read by hand is an ECDSA signature's DER wrapping (ASN.1 libraries cost ~8 KiB gzipped).

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
    // Web Crypto refuses a point that is not on the curve.
    const jwk = { kty: "EC", crv: "P-256", x: base64url(bytesOf(x, 32)), y: base64url(bytesOf(y, 32)) };
    return { algorithm, key: await crypto.subtle.importKey("jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]) };
  }
  if (algorithm === coseAlgorithmEdDSA && type === COSEKeyType.OKP) {
    const { curve, x } = key.okp();
    if (curve !== coseEllipticCurveEd25519 || x.length !== 32) throw new Error("COSE key: EdDSA other than Ed25519");
    return { algorithm, key: await crypto.subtle.importKey("raw", x, { name: "Ed25519" }, false, ["verify"]) };
  }
  if (algorithm === coseAlgorithmRS256 && type === COSEKeyType.RSA) {
    // rsa() accepts a 2048-bit modulus with a 3-byte exponent only: Windows Hello's keys.
    const { n, e } = key.rsa();
    const jwk = { kty: "RSA", n: base64url(bytesOf(n, 256)), e: base64url(bytesOf(e, 3)) };
    return { algorithm, key: await crypto.subtle.importKey("jwk", jwk, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["verify"]) };
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
      const rs = derSignatureToP1363(signature);
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

/**
 * An ECDSA P-256 signature, DER `SEQUENCE { INTEGER r, INTEGER s }` (RFC 3279 §2.2.3), as r ‖ s.
 * Tags and lengths must be exact with nothing after; each integer is read as unsigned, leading
 * zeros dropped, and must fit 32 bytes. Throws otherwise.
 */
export function derSignatureToP1363(der: Uint8Array): Uint8Array {
  // At most 2 + 2 × (2 + 33) = 72 bytes, so every length fits in one byte.
  if (der.length < 8 || der.length > 72 || der[0] !== 0x30 || der[1] !== der.length - 2) throw new Error("ES256 signature: not a DER sequence");
  const out = new Uint8Array(64);
  let at = 2;
  for (const offset of [0, 32]) {
    const length = der[at + 1] ?? 0;
    if (der[at] !== 0x02 || length < 1 || at + 2 + length > der.length) throw new Error("ES256 signature: not a DER integer");
    let value = der.subarray(at + 2, at + 2 + length);
    while (value.length > 1 && value[0] === 0) value = value.subarray(1);
    if (value.length > 32) throw new Error("ES256 signature: integer longer than 32 bytes");
    out.set(value, offset + 32 - value.length);
    at += 2 + length;
  }
  if (at !== der.length) throw new Error("ES256 signature: bytes after the sequence");
  return out;
}

/** A non-negative integer as exactly `length` big-endian bytes. */
function bytesOf(value: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  if (value !== 0n) throw new Error("COSE key: integer too long");
  return out;
}
