import { AuthError } from "./errors";
import { KEYS, type AuthStorage } from "./storage";
import type { TokenPair, User } from "./types";

export type Session = {
  access_token: string;
  refresh_token: string;
  /** When the access token expires, in epoch milliseconds. */
  expires_at: number;
  /** When this client obtained it, in epoch milliseconds (absent in sessions stored by older versions). */
  obtained_at?: number;
  refresh_expires_at: string | null;
  /** The user as of the last sign-in (a refresh answers no user). */
  user: User | null;
};

export type AuthEvent = "SIGNED_IN" | "TOKEN_REFRESHED" | "SIGNED_OUT" | "MFA_REQUIRED";
export type AuthListener = (event: AuthEvent, session: Session | null) => void;

type Locks = { request<T>(name: string, cb: () => Promise<T>): Promise<T> };
type Channel = { postMessage(m: unknown): void; onmessage: ((e: { data: AuthEvent }) => void) | null; unref?(): void };

/** The answer that means the refresh token is dead: the client is signed out (after one more look). */
const DEAD = ["invalid_refresh_token", "refresh_token_reused"];

/**
 * The session in the storage, its events, and the one refresh at a time: concurrent callers in one
 * page share one request, and tabs take turns through the Web Locks API, each re-reading the storage
 * once it holds the lock, so that a refresh token is spent once (RFC 9700 §4.14 would revoke a
 * session whose spent token came back after the server's grace window).
 */
export function sessionStore(storage: AuthStorage, rotate: (s: Session) => Promise<TokenPair>, revoke: (refreshToken: string) => unknown) {
  const listeners = new Set<AuthListener>();
  const g = globalThis as { navigator?: { locks?: Locks }; BroadcastChannel?: new (name: string) => Channel };
  const channel = g.BroadcastChannel ? new g.BroadcastChannel(KEYS.session) : null;
  channel?.unref?.();
  let inflight: Promise<Session | null> | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  // Storage writes of this page one after another, so that SIGNED_OUT is emitted once.
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => {});
    return run;
  };

  const emit = (event: AuthEvent, session: Session | null, broadcast = true) => {
    if (broadcast && event !== "MFA_REQUIRED") channel?.postMessage(event);
    for (const cb of listeners) cb(event, session);
  };

  // Another tab signed in, refreshed or signed out: the storage already says so.
  if (channel) channel.onmessage = async (e) => emit(e.data, await read(), false);

  async function read(): Promise<Session | null> {
    const raw = await storage.getItem(KEYS.session);
    return raw ? (JSON.parse(raw) as Session) : null;
  }

  const write = (s: Session) => storage.setItem(KEYS.session, JSON.stringify(s));

  function toSession(t: TokenPair & { user?: User }, user: User | null): Session {
    return {
      access_token: t.access_token,
      refresh_token: t.refresh_token,
      expires_at: t.access_expires_at ? Date.parse(t.access_expires_at) : Date.now() + t.expires_in * 1000,
      obtained_at: Date.now(),
      refresh_expires_at: t.refresh_expires_at ?? null,
      user: t.user ?? user,
    };
  }

  const set = (t: TokenPair & { user?: User }) =>
    serial(async () => {
      const s = toSession(t, null);
      await write(s);
      emit("SIGNED_IN", s);
      return s;
    });

  /**
   * A new access token for the current session (a reauthentication): the refresh token is kept, and
   * TOKEN_REFRESHED is emitted. Nothing happens when signed out meanwhile.
   */
  const adoptAccess = (t: Pick<TokenPair, "access_token" | "expires_in" | "access_expires_at">) =>
    serial(async () => {
      const s = await read();
      if (!s) return null;
      const next: Session = {
        ...s,
        access_token: t.access_token,
        expires_at: t.access_expires_at ? Date.parse(t.access_expires_at) : Date.now() + t.expires_in * 1000,
        obtained_at: Date.now(),
      };
      await write(next);
      emit("TOKEN_REFRESHED", next);
      return next;
    });

  const clear = () =>
    serial(async () => {
      const had = await read();
      if (!had) return;
      await storage.removeItem(KEYS.session);
      emit("SIGNED_OUT", null);
    });

  async function refreshLocked(spent: string | undefined): Promise<Session | null> {
    const s = await read();
    // Signed out, or another caller or tab already spent `spent`: adopt what it stored.
    if (!s || (spent && s.refresh_token !== spent)) return s;
    let pair: TokenPair;
    try {
      pair = await rotate(s);
    } catch (err) {
      if (!(err instanceof AuthError && DEAD.includes(err.code))) throw err;
      const again = await read();
      if (again && again.refresh_token !== s.refresh_token) return again;
      await clear();
      return null;
    }
    return serial(async () => {
      const now = await read();
      // Signed out (or in again) while the request was in flight: that sign-out wins.
      if (now?.refresh_token !== s.refresh_token) {
        void Promise.resolve(revoke(pair.refresh_token)).catch(() => {});
        return now;
      }
      const next = toSession(pair, s.user);
      await write(next);
      emit("TOKEN_REFRESHED", next);
      return next;
    });
  }

  /** Refreshes unless `spent` was already replaced; every concurrent caller shares one request. */
  function refresh(spent?: string): Promise<Session | null> {
    const locks = g.navigator?.locks;
    inflight ??= (locks ? locks.request(`${KEYS.session}.refresh`, () => refreshLocked(spent)) : refreshLocked(spent)).finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  return {
    read,
    set,
    adoptAccess,
    clear,
    refresh,
    emit,
    /** Settles once the refresh in flight (if any) is over. */
    settled: () => inflight?.catch(() => null),
    on(cb: AuthListener) {
      listeners.add(cb);
      return () => void listeners.delete(cb);
    },
  };
}
