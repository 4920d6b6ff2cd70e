import type { LimitStore } from "./limit-store";
import type { CooldownResult, ScheduleCleanup } from "./subject-types";

// The second step of a sign-in, in a user's object: pending challenges (by the SHA-256 of their
// mfa_token) with their attempt counts, the per-user budget of attempts, and the last TOTP step
// accepted. Synchronous: each method is one read-check-write, so a burst of parallel requests is
// counted exactly.

/** A TOTP step is good within ±1 step of now: once now is two steps past it, it cannot come back. */
const TOTP_STEP_MS = 30_000;

export const MFA_USER_BUDGET = "mfa-attempts";

export type BeginAttemptInput = {
  tokenHash: string;
  now: number;
  /** Wrong codes one challenge may take before it is burned. */
  maxAttempts: number;
  /** Attempts one user may make in a window, over all their challenges and step-up checks. */
  userLimit: { count: number; windowMs: number };
};

export type AttemptResult =
  | { ok: true; payload: string }
  | { ok: false; reason: "invalid" }
  | { ok: false; reason: "exhausted"; retryAfterMs: number; burned: boolean };

export type FinishResult = { ok: true; payload: string } | { ok: false; reason: "invalid" | "replayed" };

export class SecondStepStore {
  constructor(
    private readonly sql: SqlStorage,
    private readonly limits: LimitStore,
    private readonly scheduleCleanup: ScheduleCleanup,
  ) {}

  open(input: { tokenHash: string; payload: string; now: number; ttlMs: number }): void {
    const expiresAt = input.now + input.ttlMs;
    this.sql.exec(
      `INSERT INTO mfa_challenges (token_hash, payload, attempts, expires_at) VALUES (?, ?, 0, ?)`,
      input.tokenHash, input.payload, expiresAt,
    );
    this.scheduleCleanup(expiresAt);
  }

  /**
   * Takes one attempt before the code is checked, from the challenge and from the user's budget:
   * the sixth of fifty parallel requests finds the challenge burned, whatever its code. A right
   * code gives its attempt back to the user's budget (finish).
   */
  begin(input: BeginAttemptInput): AttemptResult {
    const { now } = input;
    const row = this.#challenge(input.tokenHash, now);
    if (!row) return { ok: false, reason: "invalid" };
    if (row.attempts >= input.maxAttempts) return { ok: false, reason: "exhausted", retryAfterMs: row.expires_at - now, burned: true };
    const budget = this.limits.count({ name: MFA_USER_BUDGET, ...input.userLimit, now });
    if (!budget.ok) return { ok: false, reason: "exhausted", retryAfterMs: budget.retryAfterMs, burned: false };
    this.sql.exec(`UPDATE mfa_challenges SET attempts = attempts + 1 WHERE token_hash = ?`, input.tokenHash);
    return { ok: true, payload: row.payload };
  }

  /** Whether the challenge is live and not burned: a second step may still finish it. */
  live(tokenHash: string, now: number, maxAttempts: number): boolean {
    const row = this.#challenge(tokenHash, now);
    return row !== undefined && row.attempts < maxAttempts;
  }

  /**
   * Ends a challenge whose code was right: it cannot be used again. With `totpStep`, the step must
   * be later than the last one accepted for this user (a code works once, RFC 6238 §5.2).
   */
  finish(input: { tokenHash: string; now: number; totpStep?: number }): FinishResult {
    const row = this.#challenge(input.tokenHash, input.now);
    if (!row) return { ok: false, reason: "invalid" };
    if (input.totpStep !== undefined && !this.acceptStep(input.totpStep, input.now)) return { ok: false, reason: "replayed" };
    this.sql.exec(`DELETE FROM mfa_challenges WHERE token_hash = ?`, input.tokenHash);
    this.limits.uncount(MFA_USER_BUDGET);
    return { ok: true, payload: row.payload };
  }

  /**
   * A code checked outside a challenge (POST /auth/reauthenticate) takes one attempt from the same
   * per-user budget before it is checked, so no burst gets more than the budget.
   */
  beginStepUp(input: { now: number; userLimit: { count: number; windowMs: number } }): CooldownResult {
    return this.limits.count({ name: MFA_USER_BUDGET, ...input.userLimit, now: input.now });
  }

  /** A right step-up code: its step is spent (a replay is refused) and its attempt given back. */
  finishStepUp(step: number, now: number): boolean {
    if (!this.acceptStep(step, now)) return false;
    this.limits.uncount(MFA_USER_BUDGET);
    return true;
  }

  /** Records `step` as accepted unless it is not later than the last accepted one. */
  acceptStep(step: number, now: number): boolean {
    const last = this.sql.exec<{ step: number }>(`SELECT step FROM totp_steps WHERE id = 1`).toArray()[0];
    if (last && last.step >= step) return false;
    const expiresAt = Math.max(now, (step + 2) * TOTP_STEP_MS);
    this.sql.exec(`INSERT OR REPLACE INTO totp_steps (id, step, expires_at) VALUES (1, ?, ?)`, step, expiresAt);
    this.scheduleCleanup(expiresAt);
    return true;
  }

  /** An administrator's reset or the user's removal of their factors: pending challenges end too. */
  clear(): void {
    this.sql.exec(`DELETE FROM mfa_challenges`);
    this.sql.exec(`DELETE FROM totp_steps`);
  }

  prune(now: number): void {
    this.sql.exec(`DELETE FROM mfa_challenges WHERE expires_at <= ?`, now);
    this.sql.exec(`DELETE FROM totp_steps WHERE expires_at <= ?`, now);
  }

  #challenge(tokenHash: string, now: number) {
    const row = this.sql
      .exec<{ payload: string; attempts: number; expires_at: number }>(
        `SELECT payload, attempts, expires_at FROM mfa_challenges WHERE token_hash = ?`,
        tokenHash,
      )
      .toArray()[0];
    return row && row.expires_at > now ? row : undefined;
  }
}
