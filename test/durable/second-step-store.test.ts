// SecondStepStore: the second step of a sign-in in a user's object. A challenge takes its attempts
// before codes are checked (5, then burned), the user's budget is shared by all challenges (10 per
// window, a right code gives its attempt back), a challenge ends when finished or expired, and a TOTP
// step is accepted only when later than the last one. A step-up check (no challenge) takes from the
// same budget, and a right step-up code spends its step and gives its attempt back.
import { describe, expect, it } from "vitest";
import { LimitStore } from "../../src/durable/limit-store";
import { SecondStepStore } from "../../src/durable/second-step-store";
import { inFreshStore, MINUTE, SECOND, T0 } from "./store-harness";

const LIMITS = { maxAttempts: 5, userLimit: { count: 10, windowMs: 15 * MINUTE } };

function storeOf(sql: SqlStorage, schedule: (at: number) => void) {
  return new SecondStepStore(sql, new LimitStore(sql, schedule), schedule);
}

describe("SecondStepStore", () => {
  it("takes 5 attempts on a challenge, then answers exhausted until it expires, then invalid", () =>
    inFreshStore((sql, schedule) => {
      const store = storeOf(sql, schedule);
      store.open({ tokenHash: "h", payload: "p", now: T0, ttlMs: 5 * MINUTE });
      for (let i = 0; i < 5; i++) expect(store.begin({ tokenHash: "h", now: T0 + i * SECOND, ...LIMITS })).toEqual({ ok: true, payload: "p" });
      expect(store.begin({ tokenHash: "h", now: T0 + 10 * SECOND, ...LIMITS })).toEqual({
        ok: false, reason: "exhausted", retryAfterMs: 5 * MINUTE - 10 * SECOND, burned: true,
      });
      expect(store.finish({ tokenHash: "h", now: T0 + 5 * MINUTE })).toEqual({ ok: false, reason: "invalid" });
      expect(store.begin({ tokenHash: "h", now: T0 + 5 * MINUTE, ...LIMITS })).toEqual({ ok: false, reason: "invalid" });
    }));

  it("an expired or finished challenge is invalid; finishing it gives the attempt back to the user", () =>
    inFreshStore((sql, schedule) => {
      const store = storeOf(sql, schedule);
      store.open({ tokenHash: "a", payload: "p", now: T0, ttlMs: 5 * MINUTE });
      expect(store.begin({ tokenHash: "a", now: T0 + 5 * MINUTE, ...LIMITS })).toEqual({ ok: false, reason: "invalid" });
      store.open({ tokenHash: "b", payload: "q", now: T0, ttlMs: 5 * MINUTE });
      expect(store.begin({ tokenHash: "b", now: T0, ...LIMITS }).ok).toBe(true);
      expect(store.finish({ tokenHash: "b", now: T0 })).toEqual({ ok: true, payload: "q" });
      expect(store.begin({ tokenHash: "b", now: T0, ...LIMITS })).toEqual({ ok: false, reason: "invalid" });
      expect(sql.exec(`SELECT count FROM counters`).one().count).toBe(0);
    }));

  it("locks the user after 10 attempts over several challenges", () =>
    inFreshStore((sql, schedule) => {
      const store = storeOf(sql, schedule);
      for (const hash of ["x", "y", "z"]) store.open({ tokenHash: hash, payload: "p", now: T0, ttlMs: 5 * MINUTE });
      for (let i = 0; i < 5; i++) store.begin({ tokenHash: "x", now: T0, ...LIMITS });
      for (let i = 0; i < 5; i++) store.begin({ tokenHash: "y", now: T0, ...LIMITS });
      expect(store.begin({ tokenHash: "z", now: T0 + MINUTE, ...LIMITS })).toEqual({
        ok: false, reason: "exhausted", retryAfterMs: 14 * MINUTE, burned: false,
      });
    }));

  it("step-up checks share the user's budget with challenges; a right code spends its step and gives its attempt back", () =>
    inFreshStore((sql, schedule) => {
      const store = storeOf(sql, schedule);
      const stepUp = (now: number) => store.beginStepUp({ now, userLimit: LIMITS.userLimit });
      for (let i = 0; i < 9; i++) expect(stepUp(T0)).toEqual({ ok: true });
      expect(stepUp(T0)).toEqual({ ok: true });
      expect(store.finishStepUp(100, T0)).toBe(true);
      expect(store.finishStepUp(100, T0)).toBe(false);
      // The right code's attempt came back: one more, then the budget is spent for challenges too.
      expect(stepUp(T0)).toEqual({ ok: true });
      expect(stepUp(T0 + SECOND)).toEqual({ ok: false, retryAfterMs: 15 * MINUTE - SECOND });
      store.open({ tokenHash: "c", payload: "p", now: T0, ttlMs: 5 * MINUTE });
      expect(store.begin({ tokenHash: "c", now: T0, ...LIMITS })).toMatchObject({ ok: false, reason: "exhausted", burned: false });
    }));

  it("accepts a TOTP step only when later than the last accepted one, also through finish", () =>
    inFreshStore((sql, schedule) => {
      const store = storeOf(sql, schedule);
      expect(store.acceptStep(100, T0)).toBe(true);
      expect(store.acceptStep(100, T0)).toBe(false);
      expect(store.acceptStep(99, T0)).toBe(false);
      store.open({ tokenHash: "t", payload: "p", now: T0, ttlMs: 5 * MINUTE });
      expect(store.finish({ tokenHash: "t", now: T0, totpStep: 100 })).toEqual({ ok: false, reason: "replayed" });
      expect(store.finish({ tokenHash: "t", now: T0, totpStep: 101 })).toEqual({ ok: true, payload: "p" });
      expect(store.acceptStep(101, T0)).toBe(false);
    }));
});
