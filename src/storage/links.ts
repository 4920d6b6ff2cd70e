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
    forgetAddresses: async (addresses) => {
      if (addresses.length === 0) return 0;
      const named = new Set(addresses);
      let deleted = 0;
      for (const prefix of [KEYS.verify(""), KEYS.reset("")]) {
        let cursor: string | undefined;
        do {
          const page = await kv.list({ prefix, ...(cursor ? { cursor } : {}) });
          for (const { name } of page.keys) {
            const value = await kv.get(name);
            if (value !== null && named.has(value)) {
              await kv.delete(name);
              deleted++;
            }
          }
          cursor = page.list_complete ? undefined : page.cursor;
        } while (cursor);
      }
      return deleted;
    },
  };
}
