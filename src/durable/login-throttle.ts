import type { CooldownResult, ScheduleCleanup } from "./subject-types";

/** The budget of every attempt that no device token vouches for. */
export const SHARED_BUDGET = "shared";

export type LoginAttemptInput = {
  now: number;
  delayAfter: number;
  lockAfter: number;
  /** The lock's length, and the sliding window failures are counted in. */
  lockMs: number;
  /** Whose failures these are: the shared budget, or one recognised device's (`device:<user>:<id>`). */
  budget?: string;
};

const MAX_DELAY_MS = 60_000;

/** A budget's lock, its failures (all rows, and those in the window), and every budget's rows. */
type BudgetState = { until: number | null; rows: number; n: number; last: number | null; everything: number };

/**
 * Password attempts per budget, in the Durable Object's SQLite. Synchronous. Failures are counted
 * in a sliding window of `lockMs`, so they decay; a lock replaces the count, so when the lock ends
 * the budget starts afresh and one more wrong password does not lock again.
 */
export class LoginThrottle {
  constructor(
    private readonly sql: SqlStorage,
    private readonly scheduleCleanup: ScheduleCleanup,
  ) {}

  /**
   * Reserves an attempt. Every attempt counts as a failure until `clear`, so a burst cannot slip in
   * more tries than the budget: after `delayAfter` failures each try waits 1, 2, 4 … seconds (at
   * most 60) after the last; the attempt that reaches `lockAfter` locks the budget for `lockMs`.
   */
  begin(input: LoginAttemptInput): CooldownResult {
    return this.settle({ ...input, passed: false });
  }

  /**
   * An attempt whose password was checked already, in one step: it is reserved as `begin` does, and
   * when it was allowed and the password right, its budget starts afresh as `clear` does. Refused
   * attempts are refused whatever the password, so the answer tells a guesser nothing.
   */
  settle(input: LoginAttemptInput & { passed: boolean }): CooldownResult {
    const budget = input.budget ?? SHARED_BUDGET;
    const state = this.#state(budget, input.now);
    const refused = this.#refusal(state, input);
    if (refused) return refused;
    if (!input.passed) this.#fail(budget, input, state.n);
    // Cleared as `clear` does (every budget when none is named); a right password on a clean
    // throttle (the usual sign-in) reads one row and writes nothing.
    else if (input.budget === undefined ? state.everything > 0 : state.rows > 0 || state.until !== null) this.clear(input.budget);
    return { ok: true };
  }

  /** After a correct password: that budget starts afresh, or every budget when none is named. */
  clear(budget?: string): void {
    if (budget === undefined) {
      this.sql.exec(`DELETE FROM login_failures`);
      this.sql.exec(`DELETE FROM login_locks`);
      return;
    }
    this.sql.exec(`DELETE FROM login_failures WHERE budget = ?`, budget);
    this.sql.exec(`DELETE FROM login_locks WHERE budget = ?`, budget);
  }

  /** The budget's state, in one statement. */
  #state(budget: string, now: number): BudgetState {
    return this.sql
      .exec<BudgetState>(
        `SELECT (SELECT until FROM login_locks WHERE budget = ?) AS until, COUNT(*) AS rows,
                COALESCE(SUM(expires_at > ?), 0) AS n, MAX(CASE WHEN expires_at > ? THEN at END) AS last,
                (SELECT COUNT(*) FROM login_failures) + (SELECT COUNT(*) FROM login_locks) AS everything
           FROM login_failures WHERE budget = ?`,
        budget, now, now, budget,
      )
      .one();
  }

  /** Locked, or still waiting out the delay after the last failure: the attempt is not taken. */
  #refusal(state: BudgetState, input: LoginAttemptInput): CooldownResult | null {
    const { now } = input;
    if (state.until !== null && state.until > now) return { ok: false, retryAfterMs: state.until - now };
    if (state.n >= input.delayAfter && state.last !== null) {
      const until = state.last + Math.min(MAX_DELAY_MS, 1000 * 2 ** (state.n - input.delayAfter));
      if (until > now) return { ok: false, retryAfterMs: until - now };
    }
    return null;
  }

  /** Counts a failure; the one that reaches `lockAfter` locks the budget instead. */
  #fail(budget: string, input: LoginAttemptInput, n: number): void {
    const { now, lockMs } = input;
    if (n + 1 >= input.lockAfter) {
      this.sql.exec(`DELETE FROM login_failures WHERE budget = ?`, budget);
      this.sql.exec(`INSERT OR REPLACE INTO login_locks (budget, until) VALUES (?, ?)`, budget, now + lockMs);
    } else {
      this.sql.exec(`INSERT INTO login_failures (budget, at, expires_at) VALUES (?, ?, ?)`, budget, now, now + lockMs);
    }
    this.scheduleCleanup(now + lockMs);
  }

  prune(now: number): void {
    this.sql.exec(`DELETE FROM login_failures WHERE expires_at <= ?`, now);
    this.sql.exec(`DELETE FROM login_locks WHERE until <= ?`, now);
  }
}
