// LoginThrottle: password attempts per budget in an address's Durable Object. Every attempt counts
// until cleared; after `delayAfter` of them each next one waits 1, 2, 4 … s after the last; the one
// that reaches `lockAfter` locks the budget for `lockMs`; failures age out of a sliding window; a
// lock replaces the count, so the budget starts afresh when it ends; budgets are independent.
import { describe, expect, it } from "vitest";
import { LoginThrottle, SHARED_BUDGET } from "../../src/durable/login-throttle";
import { inFreshStore, MINUTE, SECOND, T0 } from "./store-harness";

const LOCK_MS = 15 * MINUTE;
const RULES = { delayAfter: 3, lockAfter: 6, lockMs: LOCK_MS };

describe("LoginThrottle", () => {
  it("delays attempts after `delayAfter`, doubling, then locks at `lockAfter`", () =>
    inFreshStore((sql, schedule) => {
      const throttle = new LoginThrottle(sql, schedule);
      let now = T0;
      for (let i = 0; i < 3; i++) expect(throttle.begin({ ...RULES, now })).toEqual({ ok: true });
      // Three failures: the next waits 1 s after the last, then 2 s, then 4 s.
      expect(throttle.begin({ ...RULES, now })).toEqual({ ok: false, retryAfterMs: SECOND });
      now += SECOND;
      expect(throttle.begin({ ...RULES, now })).toEqual({ ok: true });
      expect(throttle.begin({ ...RULES, now: now + SECOND })).toEqual({ ok: false, retryAfterMs: SECOND });
      now += 2 * SECOND;
      expect(throttle.begin({ ...RULES, now })).toEqual({ ok: true });
      expect(throttle.begin({ ...RULES, now: now + 3 * SECOND })).toEqual({ ok: false, retryAfterMs: SECOND });
      now += 4 * SECOND;
      // The sixth attempt is let through and locks the budget behind it.
      expect(throttle.begin({ ...RULES, now })).toEqual({ ok: true });
      expect(throttle.begin({ ...RULES, now: now + MINUTE })).toEqual({ ok: false, retryAfterMs: LOCK_MS - MINUTE });
      // When the lock ends the budget starts afresh: one more attempt neither waits nor locks.
      expect(throttle.begin({ ...RULES, now: now + LOCK_MS })).toEqual({ ok: true });
      expect(throttle.begin({ ...RULES, now: now + LOCK_MS })).toEqual({ ok: true });
    }));

  it("settle: a right password within the budget clears it; over the budget it is refused and counts nothing", () =>
    inFreshStore((sql, schedule) => {
      const throttle = new LoginThrottle(sql, schedule);
      for (let i = 0; i < 3; i++) expect(throttle.settle({ ...RULES, now: T0, passed: false })).toEqual({ ok: true });
      // Over the budget the right password gets the same refusal as a wrong one, and clears nothing.
      expect(throttle.settle({ ...RULES, now: T0, passed: true })).toEqual({ ok: false, retryAfterMs: SECOND });
      expect(throttle.settle({ ...RULES, now: T0, passed: false })).toEqual({ ok: false, retryAfterMs: SECOND });
      // Allowed again: the right password clears the budget, so the next tries neither wait nor lock.
      expect(throttle.settle({ ...RULES, now: T0 + SECOND, passed: true })).toEqual({ ok: true });
      for (let i = 0; i < 3; i++) expect(throttle.settle({ ...RULES, now: T0 + SECOND, passed: false })).toEqual({ ok: true });
      // A burst of wrong ones after that: exactly the budget's three more were counted before the wait.
      expect(throttle.settle({ ...RULES, now: T0 + SECOND, passed: false })).toMatchObject({ ok: false });
    }));

  it("forgets failures older than the window", () =>
    inFreshStore((sql, schedule) => {
      const throttle = new LoginThrottle(sql, schedule);
      for (let i = 0; i < 3; i++) throttle.begin({ ...RULES, now: T0 });
      expect(throttle.begin({ ...RULES, now: T0 + 500 })).toMatchObject({ ok: false });
      expect(throttle.begin({ ...RULES, now: T0 + LOCK_MS })).toEqual({ ok: true });
      expect(throttle.begin({ ...RULES, now: T0 + LOCK_MS })).toEqual({ ok: true });
    }));

  it("keeps budgets apart, and a success clears only its own budget", () =>
    inFreshStore((sql, schedule) => {
      const throttle = new LoginThrottle(sql, schedule);
      const device = "device:u:d1";
      for (let i = 0; i < 3; i++) throttle.begin({ ...RULES, now: T0 });
      expect(throttle.begin({ ...RULES, now: T0 })).toMatchObject({ ok: false });
      expect(throttle.begin({ ...RULES, budget: device, now: T0 })).toEqual({ ok: true });
      throttle.clear(device);
      expect(throttle.begin({ ...RULES, budget: SHARED_BUDGET, now: T0 })).toMatchObject({ ok: false });
      throttle.clear(SHARED_BUDGET);
      expect(throttle.begin({ ...RULES, now: T0 })).toEqual({ ok: true });
    }));

  it("clears every budget, locks included, when none is named", () =>
    inFreshStore((sql, schedule) => {
      const throttle = new LoginThrottle(sql, schedule);
      for (let i = 0; i < 6; i++) throttle.begin({ ...RULES, lockAfter: 1, budget: i % 2 ? "a" : "b", now: T0 });
      expect(throttle.begin({ ...RULES, budget: "a", now: T0 })).toMatchObject({ ok: false });
      throttle.clear();
      expect(throttle.begin({ ...RULES, budget: "a", now: T0 })).toEqual({ ok: true });
      expect(throttle.begin({ ...RULES, budget: "b", now: T0 })).toEqual({ ok: true });
    }));

  it("settle: a right password on the shared budget clears every budget; a device's clears only its own", () =>
    inFreshStore((sql, schedule) => {
      const throttle = new LoginThrottle(sql, schedule);
      const device = "device:u:d1";
      const rows = () => sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM login_failures`).one().n;
      for (let i = 0; i < 2; i++) throttle.settle({ ...RULES, budget: device, now: T0, passed: false });
      for (let i = 0; i < 2; i++) throttle.settle({ ...RULES, now: T0, passed: false });
      expect(rows()).toBe(4);
      expect(throttle.settle({ ...RULES, budget: device, now: T0, passed: true })).toEqual({ ok: true });
      expect(rows()).toBe(2);
      for (let i = 0; i < 2; i++) throttle.settle({ ...RULES, budget: device, now: T0, passed: false });
      expect(throttle.settle({ ...RULES, now: T0, passed: true })).toEqual({ ok: true });
      expect(rows()).toBe(0);
      // A device's lock goes too, even when the shared budget itself was clean.
      throttle.begin({ ...RULES, lockAfter: 1, budget: device, now: T0 });
      expect(throttle.settle({ ...RULES, now: T0, passed: true })).toEqual({ ok: true });
      expect(throttle.begin({ ...RULES, budget: device, now: T0 })).toEqual({ ok: true });
    }));

  it("asks for cleanup at the window's end and prunes what has lapsed", () =>
    inFreshStore((sql, schedule, scheduled) => {
      const throttle = new LoginThrottle(sql, schedule);
      throttle.begin({ ...RULES, now: T0 });
      throttle.begin({ ...RULES, lockAfter: 1, budget: "locked", now: T0 + MINUTE });
      expect(scheduled).toEqual([T0 + LOCK_MS, T0 + MINUTE + LOCK_MS]);
      throttle.prune(T0 + LOCK_MS);
      const rows = (table: string) => sql.exec(`SELECT COUNT(*) AS n FROM ${table}`).one().n;
      expect([rows("login_failures"), rows("login_locks")]).toEqual([0, 1]);
      throttle.prune(T0 + MINUTE + LOCK_MS);
      expect(rows("login_locks")).toBe(0);
    }));
});
