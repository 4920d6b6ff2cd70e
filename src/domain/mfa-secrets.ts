import type { Config } from "../config";
import { base64url, fromBase64url } from "./crypto";

// TOTP secrets at rest: AES-256-GCM under a key from MFA_ENCRYPTION_KEYS, with a fresh 96-bit IV
// each time (NIST SP 800-38D §8.2.2) and the user id as associated data, so a ciphertext copied to
// another user's row does not decrypt. The key id is stored next to it: old keys keep decrypting
// while new secrets use the first key.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const imported = new Map<string, Promise<CryptoKey>>();

function aesKey(raw: string): Promise<CryptoKey> {
  let key = imported.get(raw);
  if (!key) {
    key = crypto.subtle.importKey("raw", fromBase64url(raw), { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
    imported.set(raw, key);
  }
  return key;
}

export type SealedSecret = { ciphertext: string; keyId: string };

export async function sealSecret(config: Config, userId: string, secret: string): Promise<SealedSecret> {
  const current = config.mfaKeys[0]!;
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(userId) },
    await aesKey(current.key),
    encoder.encode(secret),
  );
  return { ciphertext: `${base64url(iv)}.${base64url(new Uint8Array(sealed))}`, keyId: current.id };
}

/** The secret, or null when its key is no longer configured or the ciphertext was altered or moved. */
export async function openSecret(config: Config, userId: string, sealed: SealedSecret): Promise<string | null> {
  const entry = config.mfaKeys.find((k) => k.id === sealed.keyId);
  const [iv, body] = sealed.ciphertext.split(".");
  if (!entry || !iv || !body) return null;
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64url(iv), additionalData: encoder.encode(userId) },
      await aesKey(entry.key),
      fromBase64url(body),
    );
    return decoder.decode(plain);
  } catch {
    return null;
  }
}
