import type { Config } from "../config";
import type { Revocations } from "../domain/deps";
import { sessionIsOpen, sessionsRevoked } from "./hot-cache";

/** The KV denylist of revoked sessions, read through this isolate's hot-path cache. */
export function revocationsOf(config: Config, kv: KVNamespace): Revocations {
  return {
    isOpen: (sessionId) => sessionIsOpen(config, kv, sessionId),
    revoked: (sessionIds) => sessionsRevoked(config, sessionIds),
  };
}
