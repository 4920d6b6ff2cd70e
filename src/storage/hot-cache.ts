import type { Config } from "../config";
import { kvKeys } from "./kv-keys";
import type { User } from "./users";

// An isolate-local cache in front of the two reads every authenticated request would otherwise
// make: the session's entry in the KV revocation list and the user's row in D1.
//
// - A session seen open in KV is trusted for `hotPathCacheMs` (1 s by default, 0 turns it off).
// - A session revoked through this isolate, or seen revoked in KV, is refused at once and for the
//   rest of its access tokens' lifetime, whatever the positive cache says.
// - A revocation made through another isolate reaches this one within `hotPathCacheMs`, on top of
//   KV's own propagation between locations (docs/security.md). Refresh rotation, reuse detection,
//   role gates and KYC gates never rely on this cache.
// - A user's row is kept for `hotPathCacheMs` and dropped by every write this isolate makes to it.
// Every map is bounded: the oldest entry goes first, and a dropped entry costs only a re-read
// (a revoked session dropped here is found revoked in KV again).
// The cache keeps its own clock (Date.now()), never a caller's `now`: a domain call made for
// another moment (as tests do) must not keep an entry alive past its real expiry.

const MAX_ENTRIES = 10_000;

class ExpiringMap<V> {
  readonly #entries = new Map<string, { value: V; until: number }>();

  get(key: string, now: number): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.until > now) return entry.value;
    this.#entries.delete(key);
    return undefined;
  }

  set(key: string, value: V, until: number): void {
    this.#entries.delete(key);
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { value, until });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}

const openSessions = new ExpiringMap<true>();
const revokedSessions = new ExpiringMap<true>();
const usersById = new ExpiringMap<User>();
// Bumped by every user write: a read that overlapped a write does not store the row it read.
let userWrites = 0;

/** Sessions just revoked (an answer of the user's Durable Object): their access tokens stop here at once. */
export function sessionsRevoked(config: Config, sessionIds: readonly string[]): void {
  const now = Date.now();
  for (const id of sessionIds) {
    openSessions.delete(id);
    revokedSessions.set(id, true, now + config.accessTtl * 1000);
  }
}

/** Whether access tokens of a session may still be used: KV's revocation list, through the cache. */
export async function sessionIsOpen(config: Config, kv: KVNamespace, sessionId: string): Promise<boolean> {
  const now = Date.now();
  if (revokedSessions.get(sessionId, now)) return false;
  if (openSessions.get(sessionId, now)) return true;
  const revoked = (await kv.get(kvKeys.revokedSession(sessionId))) !== null;
  if (revoked) {
    sessionsRevoked(config, [sessionId]);
    return false;
  }
  // A revocation through this isolate while KV was read wins; it is not overwritten by this answer.
  if (revokedSessions.get(sessionId, now)) return false;
  if (config.hotPathCacheMs > 0) openSessions.set(sessionId, true, now + config.hotPathCacheMs);
  return true;
}

/** A user's row through the cache: `load` reads it from D1 when the cache has none. */
export async function readThroughUser(config: Config, id: string, load: () => Promise<User | undefined>) {
  const now = Date.now();
  const hit = usersById.get(id, now);
  if (hit) return hit;
  const writesBefore = userWrites;
  const user = await load();
  if (user && config.hotPathCacheMs > 0 && userWrites === writesBefore) usersById.set(id, user, now + config.hotPathCacheMs);
  return user;
}

/**
 * Every write to users' rows goes through this, so this isolate never shows an older row than it
 * wrote: the rows are dropped once the write has settled, whether it succeeded or not.
 */
export async function writingUsers<T>(ids: readonly string[] | "all", write: Promise<T>): Promise<T> {
  userWrites++;
  try {
    return await write;
  } finally {
    userWrites++;
    if (ids === "all") usersById.clear();
    else for (const id of ids) usersById.delete(id);
  }
}

/** For tests of the bounds. */
export const hotCacheSizes = () => ({ open: openSessions.size, revoked: revokedSessions.size, users: usersById.size });
