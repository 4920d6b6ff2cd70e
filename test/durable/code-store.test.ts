// CodeStore: one-time codes and links in a subject's Durable Object. A right code works once; every
// miss counts and the miss that reaches the cap burns the code; a new code replaces the old one, but
// not inside the resend cooldown; a claimed code is held for its caller until settled or lapsed; a
// link can be looked up without being used; link attempts share the code's miss budget.
import { describe, expect, it } from "vitest";
import { CodeStore, type PutCodeInput } from "../../src/durable/code-store";
import { LimitStore } from "../../src/durable/limit-store";
import { resendCooldownName } from "../../src/durable/subject-types";
import { inFreshStore, MINUTE, SECOND, T0 } from "./store-harness";

const PUT: PutCodeInput = {
  purpose: "register",
  codeHmac: "code-1",
  linkHash: "link-1",
  payload: "pending",
  now: T0,
  codeTtlMs: 10 * MINUTE,
  linkTtlMs: 60 * MINUTE,
  recordTtlMs: 60 * MINUTE,
  cooldownMs: MINUTE,
};

function stores(sql: SqlStorage, schedule: (at: number) => void) {
  const limits = new LimitStore(sql, schedule);
  return { codes: new CodeStore(sql, limits, schedule), limits };
}

const verify = (codes: CodeStore, codeHmac: string, now: number, extra: { claimMs?: number } = {}) =>
  codes.verifyCode({ purpose: "register", codeHmac, now, maxAttempts: 3, ...extra });

describe("CodeStore", () => {
  it("takes a right code once, starts the resend cooldown and asks for cleanup at the record's end", () =>
    inFreshStore((sql, schedule, scheduled) => {
      const { codes, limits } = stores(sql, schedule);
      expect(codes.put(PUT)).toEqual({ ok: true, replaced: false });
      expect(limits.cooldownUntil(resendCooldownName("register"))).toBe(T0 + MINUTE);
      expect(scheduled).toContain(T0 + 60 * MINUTE);
      expect(verify(codes, "code-1", T0 + SECOND)).toEqual({ ok: true, payload: "pending" });
      expect(verify(codes, "code-1", T0 + 2 * SECOND)).toEqual({ ok: false, reason: "invalid" });
    }));

  it("counts misses and burns the code on the one that reaches the cap", () =>
    inFreshStore((sql, schedule) => {
      const { codes } = stores(sql, schedule);
      codes.put(PUT);
      expect(verify(codes, "wrong", T0)).toEqual({ ok: false, reason: "invalid" });
      expect(verify(codes, "wrong", T0)).toEqual({ ok: false, reason: "invalid" });
      expect(verify(codes, "wrong", T0)).toEqual({ ok: false, reason: "invalid" });
      // The right code no longer works; the wait is what is left of the resend cooldown (at least 1 s).
      expect(verify(codes, "code-1", T0 + 20 * SECOND)).toEqual({ ok: false, reason: "exhausted", retryAfterMs: 40 * SECOND });
      expect(verify(codes, "code-1", T0 + 2 * MINUTE)).toEqual({ ok: false, reason: "exhausted", retryAfterMs: SECOND });
    }));

  it("refuses a code past its own expiry while the record lives on", () =>
    inFreshStore((sql, schedule) => {
      const { codes } = stores(sql, schedule);
      codes.put(PUT);
      expect(verify(codes, "code-1", T0 + 10 * MINUTE)).toEqual({ ok: false, reason: "invalid" });
      expect(codes.lookupLink({ purpose: "register", linkHash: "link-1", now: T0 + 10 * MINUTE })).toEqual({
        ok: true,
        linkExpiresAt: T0 + 60 * MINUTE,
      });
    }));

  it("replaces a live code only after the cooldown, counting sends only when a code is stored", () =>
    inFreshStore((sql, schedule) => {
      const { codes } = stores(sql, schedule);
      const sendLimit = { name: "sends", count: 2, windowMs: 60 * MINUTE };
      expect(codes.put({ ...PUT, sendLimit })).toEqual({ ok: true, replaced: false });
      expect(codes.put({ ...PUT, codeHmac: "code-2", now: T0 + 30 * SECOND, sendLimit })).toEqual({ ok: false, retryAfterMs: 30 * SECOND });
      expect(codes.put({ ...PUT, codeHmac: "code-2", now: T0 + MINUTE, sendLimit })).toEqual({ ok: true, replaced: true });
      expect(verify(codes, "code-1", T0 + MINUTE)).toEqual({ ok: false, reason: "invalid" });
      // Two sends stored: the third is over the limit although the cooldown has passed.
      expect(codes.put({ ...PUT, codeHmac: "code-3", now: T0 + 2 * MINUTE, sendLimit })).toMatchObject({ ok: false });
      expect(verify(codes, "code-2", T0 + 2 * MINUTE)).toEqual({ ok: true, payload: "pending" });
    }));

  it("holds a claimed code for its caller: released it works again, consumed it is gone, unsettled it lapses", () =>
    inFreshStore((sql, schedule) => {
      const { codes } = stores(sql, schedule);
      codes.put(PUT);
      expect(verify(codes, "code-1", T0, { claimMs: 30 * SECOND })).toEqual({ ok: true, payload: "pending" });
      expect(verify(codes, "code-1", T0 + SECOND)).toEqual({ ok: false, reason: "invalid" });
      codes.settleClaim({ purpose: "register", consumed: false });
      expect(verify(codes, "code-1", T0 + 2 * SECOND, { claimMs: 30 * SECOND })).toMatchObject({ ok: true });
      // Never settled: after claimMs the code works again.
      expect(verify(codes, "code-1", T0 + 32 * SECOND - 1)).toEqual({ ok: false, reason: "invalid" });
      expect(verify(codes, "code-1", T0 + 32 * SECOND, { claimMs: 30 * SECOND })).toMatchObject({ ok: true });
      codes.settleClaim({ purpose: "register", consumed: true });
      expect(verify(codes, "code-1", T0 + MINUTE)).toEqual({ ok: false, reason: "invalid" });
    }));

  it("looks a link up without using it, and takes it once", () =>
    inFreshStore((sql, schedule) => {
      const { codes } = stores(sql, schedule);
      codes.put(PUT);
      const link = { purpose: "register", linkHash: "link-1", now: T0 };
      expect(codes.lookupLink(link)).toEqual({ ok: true, linkExpiresAt: T0 + 60 * MINUTE });
      expect(codes.lookupLink({ ...link, linkHash: "other" })).toEqual({ ok: false });
      expect(codes.verifyLink(link)).toEqual({ ok: true, payload: "pending" });
      expect(codes.verifyLink(link)).toEqual({ ok: false, reason: "invalid" });
      expect(codes.lookupLink(link)).toEqual({ ok: false });
    }));

  it("counts link attempts against the code's miss budget", () =>
    inFreshStore((sql, schedule) => {
      const { codes } = stores(sql, schedule);
      codes.put(PUT);
      const attempt = { purpose: "register", linkHash: "link-1", now: T0, maxAttempts: 3 };
      expect(verify(codes, "wrong", T0)).toEqual({ ok: false, reason: "invalid" });
      expect(codes.beginLinkAttempt(attempt)).toEqual({ ok: true, payload: "pending" });
      expect(codes.beginLinkAttempt(attempt)).toEqual({ ok: true, payload: "pending" });
      expect(codes.beginLinkAttempt(attempt)).toMatchObject({ ok: false, reason: "exhausted" });
      expect(verify(codes, "code-1", T0)).toMatchObject({ ok: false, reason: "exhausted" });
    }));

  it("renews a live record's code and link, keeping its payload and resetting its misses", () =>
    inFreshStore((sql, schedule) => {
      const { codes } = stores(sql, schedule);
      codes.put(PUT);
      verify(codes, "wrong", T0);
      verify(codes, "wrong", T0);
      const renew = { purpose: "register", codeHmac: "code-2", linkHash: "link-2", codeTtlMs: 10 * MINUTE, linkTtlMs: 60 * MINUTE };
      expect(codes.renew({ ...renew, now: T0 + MINUTE })).toEqual({ payload: "pending" });
      // The new link ends with the record, not an hour after the renewal.
      expect(codes.lookupLink({ purpose: "register", linkHash: "link-2", now: T0 + MINUTE })).toEqual({
        ok: true,
        linkExpiresAt: T0 + 60 * MINUTE,
      });
      expect(codes.lookupLink({ purpose: "register", linkHash: "link-1", now: T0 + MINUTE })).toEqual({ ok: false });
      expect(verify(codes, "code-1", T0 + MINUTE)).toEqual({ ok: false, reason: "invalid" });
      // Two misses before the renewal and two after: the cap of three is not reached.
      expect(verify(codes, "wrong", T0 + MINUTE)).toEqual({ ok: false, reason: "invalid" });
      expect(verify(codes, "code-2", T0 + MINUTE)).toEqual({ ok: true, payload: "pending" });
      expect(codes.renew({ ...renew, now: T0 + 2 * MINUTE })).toBeNull();
    }));

  it("discards a code's secrets (keeping the record) or the whole record", () =>
    inFreshStore((sql, schedule) => {
      const { codes } = stores(sql, schedule);
      codes.put(PUT);
      codes.discard("register", false);
      expect(verify(codes, "code-1", T0)).toEqual({ ok: false, reason: "invalid" });
      expect(codes.renew({ purpose: "register", codeHmac: "c", linkHash: null, now: T0, codeTtlMs: MINUTE, linkTtlMs: 0 })).toEqual({
        payload: "pending",
      });
      codes.discard("register", true);
      expect(codes.renew({ purpose: "register", codeHmac: "c", linkHash: null, now: T0, codeTtlMs: MINUTE, linkTtlMs: 0 })).toBeNull();
    }));

  it("prunes expired records and claims", () =>
    inFreshStore((sql, schedule) => {
      const { codes } = stores(sql, schedule);
      codes.put(PUT);
      codes.put({ ...PUT, purpose: "reset", recordTtlMs: 2 * 60 * MINUTE });
      verify(codes, "code-1", T0, { claimMs: 30 * SECOND });
      codes.prune(T0 + 60 * MINUTE);
      const purposes = sql.exec<{ purpose: string }>(`SELECT purpose FROM codes`).toArray().map((r) => r.purpose);
      expect(purposes).toEqual(["reset"]);
      expect(sql.exec(`SELECT COUNT(*) AS n FROM code_claims`).one().n).toBe(0);
    }));
});
