import { timingSafeEqual } from "../domain/crypto";
import { resendCooldownName, type CodeResult, type LimitInput, type LinkLookup, type ScheduleCleanup } from "./subject-types";
import type { LimitStore } from "./limit-store";

type CodeState = {
  purpose: string;
  code_hmac: string | null;
  link_hash: string | null;
  payload: string;
  attempts: number;
  code_expires_at: number;
  link_expires_at: number;
  expires_at: number;
};

export type PutCodeInput = {
  purpose: string; codeHmac: string; linkHash: string | null; payload: string; now: number;
  codeTtlMs: number; linkTtlMs: number; recordTtlMs: number; cooldownMs: number;
  /** false when the caller has already claimed the cooldown itself (claimCooldown). */
  refuseInsideCooldown?: boolean;
  /** Counted only when the code is really stored, so refused retries do not use up the budget. */
  sendLimit?: Omit<LimitInput, "now">;
};

/** One-time codes and links (stored as HMAC / SHA-256) with their miss counters. Synchronous. */
export class CodeStore {
  constructor(
    private readonly sql: SqlStorage,
    private readonly limits: LimitStore,
    private readonly scheduleCleanup: ScheduleCleanup,
  ) {}

  /**
   * Stores a new code (and link) for `purpose`, replacing any earlier one: the old code stops
   * working. Replacing a live record inside the resend cooldown is refused, so re-registering
   * cannot flood an inbox; a successful put starts the cooldown.
   */
  put(input: PutCodeInput): { ok: true; replaced: boolean } | { ok: false; retryAfterMs: number } {
    const { now } = input;
    const replaced = this.#live(input.purpose, now) !== undefined;
    const cooldown = resendCooldownName(input.purpose);
    if (replaced && input.refuseInsideCooldown !== false) {
      const until = this.limits.cooldownUntil(cooldown);
      if (until > now) return { ok: false, retryAfterMs: until - now };
    }
    if (input.sendLimit) {
      const counted = this.limits.count({ ...input.sendLimit, now });
      if (!counted.ok) return counted;
    }
    const expiresAt = now + input.recordTtlMs;
    this.sql.exec(
      `INSERT OR REPLACE INTO codes (purpose, code_hmac, link_hash, payload, attempts, code_expires_at, link_expires_at, expires_at)
       VALUES (?, ?, ?, ?, 0, ?, ?, ?)`,
      input.purpose, input.codeHmac, input.linkHash, input.payload,
      Math.min(expiresAt, now + input.codeTtlMs), Math.min(expiresAt, now + input.linkTtlMs), expiresAt,
    );
    this.limits.startCooldown(cooldown, now + input.cooldownMs);
    this.scheduleCleanup(expiresAt);
    return { ok: true, replaced };
  }

  /** Replaces the code and link of a live record, keeping its payload and overall expiry. */
  renew(input: {
    purpose: string; codeHmac: string; linkHash: string | null; now: number; codeTtlMs: number; linkTtlMs: number;
  }): { payload: string } | null {
    const record = this.#live(input.purpose, input.now);
    if (!record) return null;
    this.sql.exec(
      `UPDATE codes SET code_hmac = ?, link_hash = ?, attempts = 0, code_expires_at = ?, link_expires_at = ? WHERE purpose = ?`,
      input.codeHmac, input.linkHash,
      Math.min(record.expires_at, input.now + input.codeTtlMs), Math.min(record.expires_at, input.now + input.linkTtlMs),
      input.purpose,
    );
    return { payload: record.payload };
  }

  /**
   * Single use on success; each miss counts, and the miss that reaches `maxAttempts` burns the
   * code, so a burst of guesses gets exactly `maxAttempts` tries in all. With `claimMs` a right
   * code does not delete the record but claims it (see `#claim`).
   */
  verifyCode(input: { purpose: string; codeHmac: string; now: number; maxAttempts: number; claimMs?: number }): CodeResult {
    const record = this.#live(input.purpose, input.now);
    if (record && record.attempts >= input.maxAttempts) return this.#exhausted(input.purpose, input.now);
    if (!record || record.code_hmac === null || record.code_expires_at <= input.now || this.#claimed(record, input.now)) {
      return { ok: false, reason: "invalid" };
    }
    if (timingSafeEqual(record.code_hmac, input.codeHmac)) return this.#take(record, input.now, input.claimMs);
    const attempts = record.attempts + 1;
    if (attempts >= input.maxAttempts) {
      this.sql.exec(`UPDATE codes SET attempts = ?, code_hmac = NULL WHERE purpose = ?`, attempts, input.purpose);
    } else {
      this.sql.exec(`UPDATE codes SET attempts = ? WHERE purpose = ?`, attempts, input.purpose);
    }
    return { ok: false, reason: "invalid" };
  }

  /** A link token (128+ bits, so no miss counter is needed); single use. */
  verifyLink(input: { purpose: string; linkHash: string; now: number; claimMs?: number }): CodeResult {
    const record = this.#linked(input.purpose, input.linkHash, input.now);
    if (!record) return { ok: false, reason: "invalid" };
    return this.#take(record, input.now, input.claimMs);
  }

  /** Whether a link is live, changing nothing (mail scanners open links). */
  lookupLink(input: { purpose: string; linkHash: string; now: number }): LinkLookup {
    const record = this.#linked(input.purpose, input.linkHash, input.now);
    return record ? { ok: true, linkExpiresAt: record.link_expires_at } : { ok: false };
  }

  /**
   * Reserves one attempt at a link that needs a second proof (the sign-up password): the attempt
   * counts as a miss, shared with the code's, before the caller checks the proof, so a burst gets
   * no more than `maxAttempts` checks. The payload is handed over for that check only.
   */
  beginLinkAttempt(input: { purpose: string; linkHash: string; now: number; maxAttempts: number }): CodeResult {
    const record = this.#linked(input.purpose, input.linkHash, input.now);
    if (!record) return { ok: false, reason: "invalid" };
    if (record.attempts >= input.maxAttempts) return this.#exhausted(input.purpose, input.now);
    this.sql.exec(`UPDATE codes SET attempts = attempts + 1 WHERE purpose = ?`, input.purpose);
    return { ok: true, payload: record.payload };
  }

  /**
   * Ends a claim: `consumed` deletes the record (the code did its work); otherwise the code and link
   * work again, since what failed was not the code's fault.
   */
  settleClaim(input: { purpose: string; consumed: boolean }): void {
    if (input.consumed) this.sql.exec(`DELETE FROM codes WHERE purpose = ?`, input.purpose);
    this.sql.exec(`DELETE FROM code_claims WHERE purpose = ?`, input.purpose);
  }

  /** Makes a code unusable: drops the record, or (to keep a pending registration) only its secrets. */
  discard(purpose: string, dropRecord: boolean): void {
    if (dropRecord) this.sql.exec(`DELETE FROM codes WHERE purpose = ?`, purpose);
    else this.sql.exec(`UPDATE codes SET code_hmac = NULL, link_hash = NULL WHERE purpose = ?`, purpose);
  }

  prune(now: number): void {
    this.sql.exec(`DELETE FROM codes WHERE expires_at <= ?`, now);
    this.sql.exec(`DELETE FROM code_claims WHERE until <= ? OR purpose NOT IN (SELECT purpose FROM codes)`, now);
  }

  /**
   * A right code or link: deleted at once, or with `claimMs` held for the caller, who settles the
   * claim when its own work is done. Until then nobody else can use the record; a claim never
   * settled (the caller crashed) lapses and the code works again.
   */
  #take(record: CodeState, now: number, claimMs: number | undefined): CodeResult {
    if (claimMs === undefined) {
      this.sql.exec(`DELETE FROM codes WHERE purpose = ?`, record.purpose);
    } else {
      this.sql.exec(`INSERT OR REPLACE INTO code_claims (purpose, until) VALUES (?, ?)`, record.purpose, now + claimMs);
      this.scheduleCleanup(now + claimMs);
    }
    return { ok: true, payload: record.payload };
  }

  #claimed(record: CodeState, now: number): boolean {
    const until = this.sql.exec<{ until: number }>(`SELECT until FROM code_claims WHERE purpose = ?`, record.purpose).toArray()[0]?.until;
    return until !== undefined && until > now;
  }

  #linked(purpose: string, linkHash: string, now: number): CodeState | undefined {
    const record = this.#live(purpose, now);
    if (!record || record.link_hash === null || record.link_expires_at <= now || this.#claimed(record, now)) return undefined;
    return timingSafeEqual(record.link_hash, linkHash) ? record : undefined;
  }

  #exhausted(purpose: string, now: number): CodeResult {
    // The way on is a new code, so the wait is what is left of the resend cooldown.
    const until = this.limits.cooldownUntil(resendCooldownName(purpose));
    return { ok: false, reason: "exhausted", retryAfterMs: Math.max(1000, until - now) };
  }

  #live(purpose: string, now: number): CodeState | undefined {
    const record = this.sql.exec<CodeState>(`SELECT * FROM codes WHERE purpose = ?`, purpose).toArray()[0];
    return record && record.expires_at > now ? record : undefined;
  }
}
