// RefreshStore: a session's refresh-token chain in the user's Durable Object (RFC 9700 §4.14). One
// rotation per token; a repeat of the just-rotated token inside the grace window gets the same
// answer; a spent token outside it revokes the session; wrong device, wrong session and expiry are
// plain refusals; the last use is due for the list at most once a minute.
import { describe, expect, it } from "vitest";
import { RefreshStore, TOUCH_INTERVAL_MS } from "../../src/durable/refresh-store";
import { inFreshStore, MINUTE, SECOND, T0 } from "./store-harness";

const GRACE_MS = 10 * SECOND;
const TTL_MS = 30 * 24 * 60 * MINUTE;

function open(store: RefreshStore, sessionId = "s1", now = T0) {
  return store.create({
    sessionId, deviceId: "d1", tokenHash: `${sessionId}-h0`, expiresAt: now + TTL_MS, now, authTime: now / 1000, amr: ["pwd"],
  });
}

function rotate(store: RefreshStore, presented: string, successor: string, now: number, over: { sessionId?: string; deviceId?: string } = {}) {
  return store.rotate({ sessionId: "s1", deviceId: "d1", presentedHash: presented, successorHash: successor, now, graceMs: GRACE_MS, ...over });
}

describe("RefreshStore", () => {
  it("opens a session whose first claims are fresh, and asks for cleanup at its expiry", () =>
    inFreshStore((sql, schedule, scheduled) => {
      const store = new RefreshStore(sql, schedule);
      const first = open(store);
      expect(first.iat).toBe(T0 / 1000);
      expect(store.activeIds(T0)).toEqual(["s1"]);
      expect(store.expiryOf("s1")).toBe(T0 + TTL_MS);
      expect(scheduled).toEqual([T0 + TTL_MS]);
    }));

  it("rotates once per token: the successor works next, the spent token is recognised", () =>
    inFreshStore((sql, schedule) => {
      const store = new RefreshStore(sql, schedule);
      const created = open(store);
      const r1 = rotate(store, "s1-h0", "s1-h1", T0 + SECOND);
      expect(r1).toMatchObject({ ok: true, replay: false, expiresAt: T0 + TTL_MS });
      expect(r1.ok && r1.jti).not.toBe(created.jti);
      expect(rotate(store, "s1-h1", "s1-h2", T0 + 2 * SECOND)).toMatchObject({ ok: true, replay: false });
      for (const hash of ["s1-h0", "s1-h1", "s1-h2"]) expect(store.sessionOfToken(hash)).toBe("s1");
      expect(store.sessionOfToken("unknown")).toBeUndefined();
    }));

  it("answers a repeat inside the grace window with the same claims, and takes it as reuse after it", () =>
    inFreshStore((sql, schedule) => {
      const store = new RefreshStore(sql, schedule);
      open(store);
      const first = rotate(store, "s1-h0", "s1-h1", T0);
      if (!first.ok) throw new Error("the first rotation failed");
      const repeat = rotate(store, "s1-h0", "s1-h1", T0 + GRACE_MS);
      expect(repeat).toEqual({
        ok: true, jti: first.jti, iat: first.iat, expiresAt: first.expiresAt, replay: true, authTime: T0 / 1000, amr: ["pwd"],
      });
      const late = rotate(store, "s1-h0", "s1-h1", T0 + GRACE_MS + 1);
      expect(late).toEqual({ ok: false, reason: "reused", revoked: ["s1"] });
      expect(store.activeIds(T0 + GRACE_MS + 1)).toEqual([]);
      // The chain is dead: the newest token too, and a second reuse revokes nothing more.
      expect(rotate(store, "s1-h1", "s1-h2", T0 + GRACE_MS + 2)).toEqual({ ok: false, reason: "invalid" });
      expect(rotate(store, "s1-h0", "s1-h1", T0 + GRACE_MS + 3)).toEqual({ ok: false, reason: "invalid" });
    }));

  it("carries the session's auth_time and amr through every rotation; a reauthentication changes them for later ones", () =>
    inFreshStore((sql, schedule) => {
      const store = new RefreshStore(sql, schedule);
      open(store);
      const auth = (r: ReturnType<RefreshStore["rotate"]>) => (r.ok ? { authTime: r.authTime, amr: r.amr } : null);
      expect(auth(rotate(store, "s1-h0", "s1-h1", T0 + 20 * MINUTE))).toEqual({ authTime: T0 / 1000, amr: ["pwd"] });
      const later = T0 + 30 * MINUTE;
      expect(store.reauthenticate({ sessionId: "s1", now: later, authTime: later / 1000, amr: ["otp"] })).toEqual({
        ok: true, expiresAt: T0 + TTL_MS,
      });
      expect(auth(rotate(store, "s1-h1", "s1-h2", later + SECOND))).toEqual({ authTime: later / 1000, amr: ["otp"] });
      // A repeat inside the grace window gets what the first got, even across a reauthentication.
      const first = rotate(store, "s1-h2", "s1-h3", later + 2 * SECOND);
      store.reauthenticate({ sessionId: "s1", now: later + 3 * SECOND, authTime: later / 1000 + 3, amr: ["pwd"] });
      expect(rotate(store, "s1-h2", "s1-h3", later + 4 * SECOND)).toEqual({ ...first, touch: undefined, replay: true });
      expect(auth(rotate(store, "s1-h3", "s1-h4", later + 5 * SECOND))).toEqual({ authTime: later / 1000 + 3, amr: ["pwd"] });
    }));

  it("refuses to reauthenticate a revoked, expired or unknown session", () =>
    inFreshStore((sql, schedule) => {
      const store = new RefreshStore(sql, schedule);
      open(store, "s1");
      open(store, "s2");
      store.markRevoked(["s1"], T0 + SECOND);
      const reauth = (sessionId: string, now: number) => store.reauthenticate({ sessionId, now, authTime: now / 1000, amr: ["pwd"] });
      expect(reauth("s1", T0 + MINUTE)).toEqual({ ok: false, reason: "ended" });
      expect(reauth("s2", T0 + TTL_MS)).toEqual({ ok: false, reason: "ended" });
      expect(reauth("unknown", T0 + MINUTE)).toEqual({ ok: false, reason: "ended" });
      expect(reauth("s2", T0 + MINUTE)).toMatchObject({ ok: true });
    }));

  it("refuses a wrong device, a wrong session and an expired session without revoking", () =>
    inFreshStore((sql, schedule) => {
      const store = new RefreshStore(sql, schedule);
      open(store);
      expect(rotate(store, "s1-h0", "x", T0, { deviceId: "d2" })).toEqual({ ok: false, reason: "invalid" });
      expect(rotate(store, "s1-h0", "x", T0, { sessionId: "s2" })).toEqual({ ok: false, reason: "invalid" });
      expect(rotate(store, "s1-h0", "x", T0 + TTL_MS)).toEqual({ ok: false, reason: "invalid" });
      expect(rotate(store, "s1-h0", "s1-h1", T0 + SECOND)).toMatchObject({ ok: true });
    }));

  it("does not revoke a session for a spent token presented under another session's id", () =>
    inFreshStore((sql, schedule) => {
      const store = new RefreshStore(sql, schedule);
      open(store, "s1");
      open(store, "s2");
      rotate(store, "s1-h0", "s1-h1", T0);
      expect(rotate(store, "s1-h0", "x", T0 + MINUTE, { sessionId: "s2" })).toEqual({ ok: false, reason: "invalid" });
      expect(store.activeIds(T0 + MINUTE).sort()).toEqual(["s1", "s2"]);
    }));

  it("asks for the list's last use at most once a minute", () =>
    inFreshStore((sql, schedule) => {
      const store = new RefreshStore(sql, schedule);
      open(store);
      expect(rotate(store, "s1-h0", "s1-h1", T0 + TOUCH_INTERVAL_MS - 1)).toMatchObject({ ok: true, touch: false });
      expect(rotate(store, "s1-h1", "s1-h2", T0 + TOUCH_INTERVAL_MS)).toMatchObject({ ok: true, touch: true });
      expect(rotate(store, "s1-h2", "s1-h3", T0 + 2 * TOUCH_INTERVAL_MS - 1)).toMatchObject({ ok: true, touch: false });
      expect(rotate(store, "s1-h3", "s1-h4", T0 + 2 * TOUCH_INTERVAL_MS)).toMatchObject({ ok: true, touch: true });
    }));

  it("marks sessions revoked once and names only those that were still active", () =>
    inFreshStore((sql, schedule) => {
      const store = new RefreshStore(sql, schedule);
      open(store, "s1");
      open(store, "s2");
      expect(store.markRevoked(["s1", "unknown"], T0)).toEqual(["s1"]);
      expect(store.markRevoked(["s1", "s2"], T0 + 1)).toEqual(["s2"]);
      expect(store.activeIds(T0 + 1)).toEqual([]);
      expect(rotate(store, "s1-h0", "s1-h1", T0 + 2)).toEqual({ ok: false, reason: "invalid" });
    }));

  it("prunes expired sessions with their spent tokens and touches, and keeps the rest", () =>
    inFreshStore((sql, schedule) => {
      const store = new RefreshStore(sql, schedule);
      open(store, "old", T0);
      open(store, "new", T0 + MINUTE);
      store.rotate({ sessionId: "old", deviceId: "d1", presentedHash: "old-h0", successorHash: "old-h1", now: T0 + MINUTE, graceMs: GRACE_MS });
      store.prune(T0 + TTL_MS);
      expect(store.expiryOf("old")).toBeUndefined();
      expect(store.sessionOfToken("old-h0")).toBeUndefined();
      expect(sql.exec(`SELECT COUNT(*) AS n FROM session_touches`).one().n).toBe(0);
      expect(store.activeIds(T0 + TTL_MS)).toEqual(["new"]);
    }));
});
