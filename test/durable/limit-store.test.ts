// LimitStore: exact fixed-window counters, cooldowns and single-holder slots in a subject's Durable
// Object. A window admits exactly `count` events and says how long until it ends; a cooldown and a
// slot refuse until they lapse; only a slot's own holder can release it.
import { describe, expect, it } from "vitest";
import { LimitStore } from "../../src/durable/limit-store";
import { inFreshStore, MINUTE, SECOND, T0 } from "./store-harness";

const WINDOW = { name: "sends", count: 3, windowMs: MINUTE };

describe("LimitStore", () => {
  it("admits exactly `count` events per window, then answers how long until the window ends", () =>
    inFreshStore((sql, schedule, scheduled) => {
      const limits = new LimitStore(sql, schedule);
      for (let i = 0; i < 3; i++) expect(limits.count({ ...WINDOW, now: T0 + i * SECOND })).toEqual({ ok: true });
      expect(limits.count({ ...WINDOW, now: T0 + 10 * SECOND })).toEqual({ ok: false, retryAfterMs: 50 * SECOND });
      expect(scheduled).toEqual([T0 + MINUTE]);
      // A new window starts when the old one has ended, not before.
      expect(limits.count({ ...WINDOW, now: T0 + MINUTE - 1 })).toEqual({ ok: false, retryAfterMs: 1 });
      expect(limits.count({ ...WINDOW, now: T0 + MINUTE })).toEqual({ ok: true });
    }));

  it("gives an event back with uncount, never below zero", () =>
    inFreshStore((sql, schedule) => {
      const limits = new LimitStore(sql, schedule);
      for (let i = 0; i < 3; i++) limits.count({ ...WINDOW, now: T0 });
      limits.uncount("sends");
      expect(limits.count({ ...WINDOW, now: T0 })).toEqual({ ok: true });
      expect(limits.count({ ...WINDOW, now: T0 })).toMatchObject({ ok: false });
      for (let i = 0; i < 5; i++) limits.uncount("sends");
      expect(sql.exec(`SELECT count FROM counters WHERE name = 'sends'`).one().count).toBe(0);
    }));

  it("keeps separate counters apart", () =>
    inFreshStore((sql, schedule) => {
      const limits = new LimitStore(sql, schedule);
      for (let i = 0; i < 3; i++) limits.count({ ...WINDOW, now: T0 });
      expect(limits.count({ ...WINDOW, name: "other", now: T0 })).toEqual({ ok: true });
    }));

  it("claims a cooldown once until it lapses", () =>
    inFreshStore((sql, schedule) => {
      const limits = new LimitStore(sql, schedule);
      expect(limits.claimCooldown({ name: "resend", now: T0, ms: MINUTE })).toEqual({ ok: true });
      expect(limits.claimCooldown({ name: "resend", now: T0 + 20 * SECOND, ms: MINUTE })).toEqual({ ok: false, retryAfterMs: 40 * SECOND });
      expect(limits.cooldownUntil("resend")).toBe(T0 + MINUTE);
      expect(limits.claimCooldown({ name: "resend", now: T0 + MINUTE, ms: MINUTE })).toEqual({ ok: true });
      limits.endCooldown("resend");
      expect(limits.cooldownUntil("resend")).toBe(0);
    }));

  it("holds a slot for one holder; only that holder releases it, and it lapses after `ms`", () =>
    inFreshStore((sql, schedule) => {
      const limits = new LimitStore(sql, schedule);
      expect(limits.claimSlot({ name: "upload", holder: "a", now: T0, ms: MINUTE })).toEqual({ ok: true });
      expect(limits.claimSlot({ name: "upload", holder: "b", now: T0 + SECOND, ms: MINUTE })).toEqual({
        ok: false,
        retryAfterMs: MINUTE - SECOND,
      });
      limits.releaseSlot({ name: "upload", holder: "b" });
      expect(limits.claimSlot({ name: "upload", holder: "b", now: T0 + 2 * SECOND, ms: MINUTE })).toMatchObject({ ok: false });
      // After it lapsed, another holder takes it; a late release by the first must not free it.
      expect(limits.claimSlot({ name: "upload", holder: "b", now: T0 + MINUTE, ms: MINUTE })).toEqual({ ok: true });
      limits.releaseSlot({ name: "upload", holder: "a" });
      expect(limits.claimSlot({ name: "upload", holder: "c", now: T0 + MINUTE + 1, ms: MINUTE })).toMatchObject({ ok: false });
      limits.releaseSlot({ name: "upload", holder: "b" });
      expect(limits.claimSlot({ name: "upload", holder: "c", now: T0 + MINUTE + 2, ms: MINUTE })).toEqual({ ok: true });
    }));

  it("prunes only what has lapsed", () =>
    inFreshStore((sql, schedule) => {
      const limits = new LimitStore(sql, schedule);
      limits.count({ ...WINDOW, now: T0 });
      limits.startCooldown("short", T0 + SECOND);
      limits.startCooldown("long", T0 + 2 * MINUTE);
      limits.claimSlot({ name: "upload", holder: "a", now: T0, ms: 30 * SECOND });
      limits.prune(T0 + MINUTE);
      const rows = (table: string) => sql.exec(`SELECT COUNT(*) AS n FROM ${table}`).one().n;
      expect([rows("counters"), rows("cooldowns"), rows("slots")]).toEqual([0, 1, 0]);
      expect(limits.cooldownUntil("long")).toBe(T0 + 2 * MINUTE);
    }));
});
