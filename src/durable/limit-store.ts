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
    const row = this.sql
      .exec<{ count: number; window_end: number }>(`SELECT count, window_end FROM counters WHERE name = ?`, input.name)
      .toArray()[0];
    if (row && row.window_end > now) {
      if (row.count >= input.count) return { ok: false, retryAfterMs: row.window_end - now };
      this.sql.exec(`UPDATE counters SET count = count + 1 WHERE name = ?`, input.name);
      return { ok: true };
    }
    this.sql.exec(`INSERT OR REPLACE INTO counters (name, count, window_end) VALUES (?, 1, ?)`, input.name, now + input.windowMs);
    this.scheduleCleanup(now + input.windowMs);
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
