import type { LinkKind, Links } from "../domain/deps";
import { kvKeys, kvTtl } from "./kv-keys";

const KEYS: Record<LinkKind, (hash: string) => string> = {
  verify: kvKeys.verifyLink,
  reset: kvKeys.resetLink,
  "google-state": kvKeys.googleState,
};

/** Link records in KV, under the keys src/storage/kv-keys.ts lists. */
export function linksOf(kv: KVNamespace): Links {
  return {
    put: (kind, hash, value, ttlSeconds) => kv.put(KEYS[kind](hash), value, { expirationTtl: kvTtl(ttlSeconds) }),
    get: (kind, hash) => kv.get(KEYS[kind](hash)),
    delete: (kind, hash) => kv.delete(KEYS[kind](hash)),
  };
}
