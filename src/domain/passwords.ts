import Argon2, { Argon2Type, Argon2Version } from "@phi-ag/argon2";
import argon2Wasm from "@phi-ag/argon2/argon2.wasm";

/**
 * argon2id at OWASP's minimum profile (19 MiB, t=2, p=1), from a statically imported WASM module
 * (workerd forbids compiling WASM at run time). The PHC string stores algorithm and parameters,
 * so a hash made with older parameters is recognised and upgraded at the next login.
 */
export const PASSWORD_PARAMS = { memoryCost: 19456, timeCost: 2, parallelism: 1, hashLength: 32 } as const;

// A hash of a random, discarded password with the current parameters: not a secret, only a target
// that costs the same work to check against.
const DUMMY_HASH = "$argon2id$v=19$m=19456,t=2,p=1$yYgGm6WjS2NYrHzqHqPwuQ$LHhjCowr4EAKCqSyTT15ILfH8K6E+9M4I+dXh5LAYiw";

let engine: Argon2 | undefined;

async function argon2(): Promise<Argon2> {
  engine ??= new Argon2(await WebAssembly.instantiate(argon2Wasm));
  return engine;
}

export async function hashPassword(password: string): Promise<string> {
  const a = await argon2();
  return a.hash(password, { ...PASSWORD_PARAMS, type: Argon2Type.Argon2id, version: Argon2Version.Version13 })
    .encoded;
}

/** Verifies in the library's constant-time compare; a malformed stored hash is a mismatch. */
export async function verifyPassword(encoded: string, password: string): Promise<boolean> {
  const a = await argon2();
  return a.tryVerify(encoded, password, Argon2Type.Argon2id).success;
}

/**
 * Spends the same hashing work as a real check, for unknown accounts, so that response time does not
 * tell an attacker whether an email is registered.
 */
export async function burnPasswordCheck(password: string): Promise<void> {
  await verifyPassword(DUMMY_HASH, password);
}

export function needsRehash(encoded: string): boolean {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(encoded);
  if (!match) return true;
  const [, m, t, p] = match.map(Number);
  return m !== PASSWORD_PARAMS.memoryCost || t !== PASSWORD_PARAMS.timeCost || p !== PASSWORD_PARAMS.parallelism;
}
