import type { CooldownResult, LimitInput, ScheduleCleanup } from "./subject-types";

/** Exact counters and cooldowns in the Durable Object's SQLite. Synchronous. */
export class LimitStore {
  constructor(
    private readonly sql: SqlStorage,
    private readonly scheduleCleanup: ScheduleCleanup,
  ) {}

  /** Counts one event against `count` per fixed window; over it, how long until the window ends. */
  count(input: LimitInput): CooldownResult {
    const { now } = input;
    // One statement counts the event: a new window, or one more in the current window while it is
    // under the limit. Over it nothing is written and no row comes back.
    const counted = this.sql
      .exec<{ count: number }>(
        `INSERT INTO counters (name, count, window_end) VALUES (?, 1, ?)
         ON CONFLICT (name) DO UPDATE SET
           count = CASE WHEN window_end <= ? THEN 1 ELSE count + 1 END,
           window_end = CASE WHEN window_end <= ? THEN excluded.window_end ELSE window_end END
         WHERE window_end <= ? OR count < ?
         RETURNING count`,
        input.name, now + input.windowMs, now, now, now, input.count,
      )
      .toArray()[0];
    if (!counted) {
      const { window_end } = this.sql.exec<{ window_end: number }>(`SELECT window_end FROM counters WHERE name = ?`, input.name).one();
      return { ok: false, retryAfterMs: window_end - now };
    }
    if (counted.count === 1) this.scheduleCleanup(now + input.windowMs);
    return { ok: true };
  }

  uncount(name: string): void {
    this.sql.exec(`UPDATE counters SET count = MAX(0, count - 1) WHERE name = ?`, name);
  }

  cooldownUntil(name: string): number {
    return this.sql.exec<{ until: number }>(`SELECT until FROM cooldowns WHERE name = ?`, name).toArray()[0]?.until ?? 0;
  }

  startCooldown(name: string, until: number): void {
    this.sql.exec(`INSERT OR REPLACE INTO cooldowns (name, until) VALUES (?, ?)`, name, until);
    this.scheduleCleanup(until);
  }

  endCooldown(name: string): void {
    this.sql.exec(`DELETE FROM cooldowns WHERE name = ?`, name);
  }

  /** ok when the last claim is older than `ms` (and claims it), else how long to wait. */
  claimCooldown(input: { name: string; now: number; ms: number }): CooldownResult {
    const until = this.cooldownUntil(input.name);
    if (until > input.now) return { ok: false, retryAfterMs: until - input.now };
    this.startCooldown(input.name, input.now + input.ms);
    return { ok: true };
  }

  /**
   * Takes `name` for `holder` unless another holder has it; a holder that never releases (its
   * request died) loses it after `ms`.
   */
  claimSlot(input: { name: string; holder: string; now: number; ms: number }): CooldownResult {
    const row = this.sql.exec<{ until: number }>(`SELECT until FROM slots WHERE name = ?`, input.name).toArray()[0];
    if (row && row.until > input.now) return { ok: false, retryAfterMs: row.until - input.now };
    this.sql.exec(`INSERT OR REPLACE INTO slots (name, holder, until) VALUES (?, ?, ?)`, input.name, input.holder, input.now + input.ms);
    this.scheduleCleanup(input.now + input.ms);
    return { ok: true };
  }

  /** Only the holder's own release counts: a late one must not free a slot taken over since. */
  releaseSlot(input: { name: string; holder: string }): void {
    this.sql.exec(`DELETE FROM slots WHERE name = ? AND holder = ?`, input.name, input.holder);
  }

  prune(now: number): void {
    this.sql.exec(`DELETE FROM cooldowns WHERE until <= ?`, now);
    this.sql.exec(`DELETE FROM counters WHERE window_end <= ?`, now);
    this.sql.exec(`DELETE FROM slots WHERE until <= ?`, now);
  }
}
