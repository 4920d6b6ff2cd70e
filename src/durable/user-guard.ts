import { DurableObject } from "cloudflare:workers";
import { loadConfig } from "../config";
import { timingSafeEqual } from "../domain/crypto";
import { database } from "../storage/db";
import { kvKeys, kvTtl } from "../storage/kv-keys";
import { markSessionsRevoked } from "../storage/sessions";

/**
 * One instance per user (`user:<id>`), and one per email or phone before a user exists
 * (`email:<address>`). It owns what must be atomic for that subject: refresh-token rotation with
 * reuse detection, revocation, one-time codes with their attempt counters, and cooldowns.
 * Every public method is an RPC entry point; each does its read-check-write with no await inside.
 */

export type RotateResult =
  | { ok: true; jti: string; iat: number; expiresAt: number; replay: boolean }
  | { ok: false; reason: "invalid" | "reused" };

export type CodeResult =
  | { ok: true; payload: string }
  | { ok: false; reason: "invalid" }
  | { ok: false; reason: "exhausted"; retryAfterMs: number };

/** The cooldown between two messages carrying a code for `purpose` to one recipient. */
export const resendCooldownName = (purpose: string) => `resend:${purpose}`;

export type CooldownResult = { ok: true } | { ok: false; retryAfterMs: number };

export type LimitInput = { name: string; count: number; windowMs: number; now: number };

type SessionState = {
  id: string;
  device_id: string;
  token_hash: string;
  prev_hash: string | null;
  rotated_at: number | null;
  access_jti: string;
  access_iat: number;
  expires_at: number;
  revoked_at: number | null;
};

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

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY, device_id TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
  prev_hash TEXT, rotated_at INTEGER, access_jti TEXT NOT NULL, access_iat INTEGER NOT NULL,
  expires_at INTEGER NOT NULL, revoked_at INTEGER, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_prev ON sessions (prev_hash);
CREATE TABLE IF NOT EXISTS spent_tokens (hash TEXT PRIMARY KEY, session_id TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS codes (
  purpose TEXT PRIMARY KEY, code_hmac TEXT, link_hash TEXT, payload TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, code_expires_at INTEGER NOT NULL, link_expires_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS cooldowns (name TEXT PRIMARY KEY, until INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, count INTEGER NOT NULL, window_end INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS login_throttle (id INTEGER PRIMARY KEY CHECK (id = 1), failures INTEGER NOT NULL, blocked_until INTEGER NOT NULL);
`;

export class UserGuard extends DurableObject<Env> {
  #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#sql.exec(SCHEMA);
  }

  // ---- sessions and refresh tokens -------------------------------------------------------------

  async createSession(input: { sessionId: string; deviceId: string; tokenHash: string; expiresAt: number; now: number }) {
    const jti = crypto.randomUUID();
    const iat = Math.floor(input.now / 1000);
    this.#sql.exec(
      `INSERT INTO sessions (id, device_id, token_hash, access_jti, access_iat, expires_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      input.sessionId, input.deviceId, input.tokenHash, jti, iat, input.expiresAt, input.now,
    );
    this.#scheduleCleanup(input.expiresAt);
    return { jti, iat };
  }

  /**
   * Rotates a refresh token in one step (RFC 9700 §4.14). The token's successor hash is computed by
   * the caller; it is deterministic, so a repeat of the just-rotated token inside the grace window
   * gets the same successor and access-token claims. Any older token revokes the session.
   */
  async rotateRefresh(input: {
    userId: string; sessionId: string; presentedHash: string; successorHash: string; deviceId: string; now: number; graceMs: number;
  }): Promise<RotateResult> {
    const { now } = input;
    const current = this.#session("token_hash", input.presentedHash);
    if (current) {
      if (!this.#usable(current, input, now)) return { ok: false, reason: "invalid" };
      const jti = crypto.randomUUID();
      const iat = Math.floor(now / 1000);
      this.#sql.exec(
        `UPDATE sessions SET prev_hash = token_hash, token_hash = ?, rotated_at = ?, access_jti = ?, access_iat = ? WHERE id = ?`,
        input.successorHash, now, jti, iat, current.id,
      );
      this.#sql.exec(
        `INSERT OR IGNORE INTO spent_tokens (hash, session_id, expires_at) VALUES (?, ?, ?)`,
        input.presentedHash, current.id, current.expires_at,
      );
      return { ok: true, jti, iat, expiresAt: current.expires_at, replay: false };
    }

    const previous = this.#session("prev_hash", input.presentedHash);
    if (
      previous &&
      previous.token_hash === input.successorHash &&
      previous.rotated_at !== null &&
      now - previous.rotated_at <= input.graceMs
    ) {
      // Inside the grace window a wrong device is refused like any other mismatch, not taken as theft.
      if (!this.#usable(previous, input, now)) return { ok: false, reason: "invalid" };
      return { ok: true, jti: previous.access_jti, iat: previous.access_iat, expiresAt: previous.expires_at, replay: true };
    }

    const spent = this.#sql
      .exec<{ session_id: string }>(`SELECT session_id FROM spent_tokens WHERE hash = ?`, input.presentedHash)
      .toArray()[0];
    if (!spent || spent.session_id !== input.sessionId) return { ok: false, reason: "invalid" };
    const revoked = this.#markRevoked([spent.session_id], now);
    if (revoked.length === 0) return { ok: false, reason: "invalid" };
    await this.#propagateRevocation(input.userId, revoked, now);
    return { ok: false, reason: "reused" };
  }

  /** Revokes the session a refresh token (current, previous or spent) belongs to. Idempotent. */
  async revokeByToken(input: { userId: string; presentedHash: string; now: number }): Promise<{ revoked: string[] }> {
    const hit =
      this.#session("token_hash", input.presentedHash) ??
      this.#session("prev_hash", input.presentedHash) ??
      this.#sql
        .exec<{ id: string }>(`SELECT session_id AS id FROM spent_tokens WHERE hash = ?`, input.presentedHash)
        .toArray()[0];
    if (!hit) return { revoked: [] };
    const revoked = this.#markRevoked([hit.id], input.now);
    await this.#propagateRevocation(input.userId, revoked, input.now);
    return { revoked };
  }

  /** Revokes the given sessions, or every active one (but `exceptId`) when `ids` is null. */
  async revokeSessions(input: {
    userId: string; ids: string[] | null; now: number; exceptId?: string;
  }): Promise<{ revoked: string[] }> {
    const ids =
      input.ids ??
      this.#sql
        .exec<{ id: string }>(`SELECT id FROM sessions WHERE revoked_at IS NULL AND expires_at > ?`, input.now)
        .toArray()
        .map((r) => r.id)
        .filter((id) => id !== input.exceptId);
    const revoked = this.#markRevoked(ids, input.now);
    await this.#propagateRevocation(input.userId, revoked, input.now);
    return { revoked };
  }

  // ---- one-time codes ---------------------------------------------------------------------------

  /**
   * Stores a new code (and link) for `purpose`, replacing any earlier one: the old code stops
   * working. Replacing a live record inside the resend cooldown is refused, so re-registering
   * cannot flood an inbox; a successful put starts the cooldown.
   */
  async putCode(input: {
    purpose: string; codeHmac: string; linkHash: string | null; payload: string; now: number;
    codeTtlMs: number; linkTtlMs: number; recordTtlMs: number; cooldownMs: number;
    /** false when the caller has already claimed the cooldown itself (claimCooldown). */
    refuseInsideCooldown?: boolean;
    /** Counted only when the code is really stored, so refused retries do not use up the budget. */
    sendLimit?: Omit<LimitInput, "now">;
  }): Promise<{ ok: true; replaced: boolean } | { ok: false; retryAfterMs: number }> {
    const { now } = input;
    const replaced = this.#code(input.purpose, now) !== undefined;
    const cooldown = resendCooldownName(input.purpose);
    if (replaced && input.refuseInsideCooldown !== false) {
      const until = this.#cooldownUntil(cooldown);
      if (until > now) return { ok: false, retryAfterMs: until - now };
    }
    if (input.sendLimit) {
      const counted = this.#count({ ...input.sendLimit, now });
      if (!counted.ok) return counted;
    }
    const expiresAt = now + input.recordTtlMs;
    this.#sql.exec(
      `INSERT OR REPLACE INTO codes (purpose, code_hmac, link_hash, payload, attempts, code_expires_at, link_expires_at, expires_at)
       VALUES (?, ?, ?, ?, 0, ?, ?, ?)`,
      input.purpose, input.codeHmac, input.linkHash, input.payload,
      Math.min(expiresAt, now + input.codeTtlMs), Math.min(expiresAt, now + input.linkTtlMs), expiresAt,
    );
    this.#sql.exec(`INSERT OR REPLACE INTO cooldowns (name, until) VALUES (?, ?)`, cooldown, now + input.cooldownMs);
    this.#scheduleCleanup(Math.min(expiresAt, now + input.cooldownMs));
    return { ok: true, replaced };
  }

  /**
   * Replaces the code and link of a live record, keeping its payload and overall expiry.
   * Returns the payload, or null when there is nothing pending.
   */
  async renewCode(input: {
    purpose: string; codeHmac: string; linkHash: string | null; now: number; codeTtlMs: number; linkTtlMs: number;
  }): Promise<{ payload: string } | null> {
    const record = this.#code(input.purpose, input.now);
    if (!record) return null;
    this.#sql.exec(
      `UPDATE codes SET code_hmac = ?, link_hash = ?, attempts = 0, code_expires_at = ?, link_expires_at = ? WHERE purpose = ?`,
      input.codeHmac, input.linkHash,
      Math.min(record.expires_at, input.now + input.codeTtlMs), Math.min(record.expires_at, input.now + input.linkTtlMs),
      input.purpose,
    );
    return { payload: record.payload };
  }

  /**
   * Checks a code: single use on success; each miss counts, and the miss that reaches `maxAttempts`
   * burns the code, so a burst of guesses gets exactly `maxAttempts` tries in all.
   */
  async verifyCode(input: { purpose: string; codeHmac: string; now: number; maxAttempts: number }): Promise<CodeResult> {
    const record = this.#code(input.purpose, input.now);
    if (record && record.attempts >= input.maxAttempts) return this.#exhausted(input.purpose, input.now);
    if (!record || record.code_hmac === null || record.code_expires_at <= input.now) return { ok: false, reason: "invalid" };
    if (timingSafeEqual(record.code_hmac, input.codeHmac)) {
      this.#sql.exec(`DELETE FROM codes WHERE purpose = ?`, input.purpose);
      return { ok: true, payload: record.payload };
    }
    const attempts = record.attempts + 1;
    if (attempts >= input.maxAttempts) {
      this.#sql.exec(`UPDATE codes SET attempts = ?, code_hmac = NULL WHERE purpose = ?`, attempts, input.purpose);
    } else {
      this.#sql.exec(`UPDATE codes SET attempts = ? WHERE purpose = ?`, attempts, input.purpose);
    }
    return { ok: false, reason: "invalid" };
  }

  /** Checks a link token (128+ bits, so no attempt counter is needed); single use. */
  async verifyLink(input: { purpose: string; linkHash: string; now: number }): Promise<CodeResult> {
    const record = this.#code(input.purpose, input.now);
    if (!record || record.link_hash === null || record.link_expires_at <= input.now || !timingSafeEqual(record.link_hash, input.linkHash)) {
      return { ok: false, reason: "invalid" };
    }
    this.#sql.exec(`DELETE FROM codes WHERE purpose = ?`, input.purpose);
    return { ok: true, payload: record.payload };
  }

  /** Claims a cooldown slot: ok when the last claim is older than `ms`, else how long to wait. */
  async claimCooldown(input: { name: string; now: number; ms: number }): Promise<CooldownResult> {
    const until = this.#cooldownUntil(input.name);
    if (until > input.now) return { ok: false, retryAfterMs: until - input.now };
    this.#sql.exec(`INSERT OR REPLACE INTO cooldowns (name, until) VALUES (?, ?)`, input.name, input.now + input.ms);
    this.#scheduleCleanup(input.now + input.ms);
    return { ok: true };
  }

  /**
   * Undoes a send whose message could not be delivered: the cooldown and the send counter it took
   * are given back, and with `dropRecord` the code's record goes too, so no usable code is left.
   */
  async undoSend(input: { purpose: string; counter: string; dropRecord: boolean }): Promise<void> {
    if (input.dropRecord) this.#sql.exec(`DELETE FROM codes WHERE purpose = ?`, input.purpose);
    else this.#sql.exec(`UPDATE codes SET code_hmac = NULL, link_hash = NULL WHERE purpose = ?`, input.purpose);
    this.#sql.exec(`DELETE FROM cooldowns WHERE name = ?`, resendCooldownName(input.purpose));
    this.#sql.exec(`UPDATE counters SET count = MAX(0, count - 1) WHERE name = ?`, input.counter);
  }

  // ---- rate limits -----------------------------------------------------------------------------

  /**
   * Counts one event against `count` per window (fixed windows). Exact under concurrency: the
   * read-check-write has no await, and this object runs one call at a time.
   */
  async hit(input: LimitInput): Promise<CooldownResult> {
    return this.#count(input);
  }

  #count(input: LimitInput): CooldownResult {
    const { now } = input;
    const row = this.#sql
      .exec<{ count: number; window_end: number }>(`SELECT count, window_end FROM counters WHERE name = ?`, input.name)
      .toArray()[0];
    if (row && row.window_end > now) {
      if (row.count >= input.count) return { ok: false, retryAfterMs: row.window_end - now };
      this.#sql.exec(`UPDATE counters SET count = count + 1 WHERE name = ?`, input.name);
      return { ok: true };
    }
    this.#sql.exec(`INSERT OR REPLACE INTO counters (name, count, window_end) VALUES (?, 1, ?)`, input.name, now + input.windowMs);
    this.#scheduleCleanup(now + input.windowMs);
    return { ok: true };
  }

  /**
   * Reserves a password attempt for this account (email). Every attempt counts as a failure until
   * `loginSucceeded` clears the count, so a burst cannot slip in more tries than the budget: after
   * `delayAfter` failures each try waits 1, 2, 4 … seconds (at most 60); after `lockAfter` the
   * account is locked for `lockMs`.
   */
  async beginLogin(input: { now: number; delayAfter: number; lockAfter: number; lockMs: number }): Promise<CooldownResult> {
    const { now } = input;
    const row = this.#sql
      .exec<{ failures: number; blocked_until: number }>(`SELECT failures, blocked_until FROM login_throttle WHERE id = 1`)
      .toArray()[0] ?? { failures: 0, blocked_until: 0 };
    if (row.blocked_until > now) return { ok: false, retryAfterMs: row.blocked_until - now };
    const failures = row.failures + 1;
    let blockedUntil = 0;
    if (failures >= input.lockAfter) blockedUntil = now + input.lockMs;
    else if (failures >= input.delayAfter) blockedUntil = now + Math.min(60_000, 1000 * 2 ** (failures - input.delayAfter));
    this.#sql.exec(
      `INSERT OR REPLACE INTO login_throttle (id, failures, blocked_until) VALUES (1, ?, ?)`,
      failures, blockedUntil,
    );
    return { ok: true };
  }

  async loginSucceeded(): Promise<void> {
    this.#sql.exec(`DELETE FROM login_throttle`);
  }

  // ---- housekeeping ----------------------------------------------------------------------------

  override async alarm(): Promise<void> {
    const now = Date.now();
    this.#sql.exec(`DELETE FROM codes WHERE expires_at <= ?`, now);
    this.#sql.exec(`DELETE FROM cooldowns WHERE until <= ?`, now);
    this.#sql.exec(`DELETE FROM counters WHERE window_end <= ?`, now);
    this.#sql.exec(`DELETE FROM spent_tokens WHERE expires_at <= ?`, now);
    this.#sql.exec(`DELETE FROM sessions WHERE expires_at <= ?`, now);
    const next = this.#sql
      .exec<{ at: number | null }>(
        `SELECT MIN(at) AS at FROM (
           SELECT MIN(expires_at) AS at FROM codes UNION ALL SELECT MIN(until) FROM cooldowns
           UNION ALL SELECT MIN(window_end) FROM counters UNION ALL SELECT MIN(expires_at) FROM sessions)`,
      )
      .one().at;
    if (next !== null) await this.ctx.storage.setAlarm(next);
  }

  #scheduleCleanup(at: number): void {
    // Fire-and-forget is safe: alarm writes are part of this object's output gate.
    void this.ctx.storage.getAlarm().then((current) => {
      if (current === null || current > at) return this.ctx.storage.setAlarm(at);
    });
  }

  #session(column: "token_hash" | "prev_hash", hash: string): SessionState | undefined {
    return this.#sql.exec<SessionState>(`SELECT * FROM sessions WHERE ${column} = ?`, hash).toArray()[0];
  }

  #usable(s: SessionState, input: { sessionId: string; deviceId: string }, now: number): boolean {
    return s.revoked_at === null && s.expires_at > now && s.id === input.sessionId && s.device_id === input.deviceId;
  }

  /** A burned code: the way on is a new code, so the wait is what is left of the resend cooldown. */
  #exhausted(purpose: string, now: number): CodeResult {
    return { ok: false, reason: "exhausted", retryAfterMs: Math.max(1000, this.#cooldownUntil(resendCooldownName(purpose)) - now) };
  }

  #cooldownUntil(name: string): number {
    return this.#sql.exec<{ until: number }>(`SELECT until FROM cooldowns WHERE name = ?`, name).toArray()[0]?.until ?? 0;
  }

  #code(purpose: string, now: number): CodeState | undefined {
    const record = this.#sql.exec<CodeState>(`SELECT * FROM codes WHERE purpose = ?`, purpose).toArray()[0];
    return record && record.expires_at > now ? record : undefined;
  }

  #markRevoked(ids: string[], now: number): string[] {
    const revoked: string[] = [];
    for (const id of ids) {
      const changed = this.#sql.exec(`UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, now, id).rowsWritten;
      if (changed > 0) revoked.push(id);
    }
    return revoked;
  }

  /** Access tokens of a revoked session are refused at once through the KV denylist, read by require-auth. */
  async #propagateRevocation(userId: string, sessionIds: string[], now: number): Promise<void> {
    if (sessionIds.length === 0) return;
    const config = loadConfig(this.env);
    const ttl = kvTtl(config.accessTtl);
    await Promise.all([
      ...sessionIds.map((id) => this.env.KV.put(kvKeys.revokedSession(id), "1", { expirationTtl: ttl })),
      markSessionsRevoked(database(this.env.DB), userId, sessionIds, new Date(now)),
    ]);
  }
}
