import { ADDED_COLUMNS, SUBJECT_SCHEMA } from "./subject-types";

// What the SubjectStore's SQLite holds as a whole: whether it has tables at all, when its next row
// expires, and whether anything is left. Synchronous.

/** The object's own tables (not SQLite's or the runtime's). */
function tables(sql: SqlStorage): string[] {
  return sql
    .exec<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'`)
    .toArray()
    .map((t) => t.name);
}

/** False for an object that never stored anything: reading it must not create its schema. */
export function hasTables(sql: SqlStorage): boolean {
  return tables(sql).length > 0;
}

/**
 * Brings the tables of an object made by an earlier version up to date: the tables added since (the
 * script is idempotent), then the columns added since. Run once per object start.
 */
export function upgradeSchema(sql: SqlStorage): void {
  sql.exec(SUBJECT_SCHEMA);
  for (const [table, column, definition] of ADDED_COLUMNS) {
    const present = sql.exec<{ name: string }>(`PRAGMA table_info(${table})`).toArray().some((c) => c.name === column);
    if (!present) sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
  }
}

/** Each table whose rows expire, and the column that says when. */
const EXPIRIES = [
  ["codes", "expires_at"],
  ["code_claims", "until"],
  ["cooldowns", "until"],
  ["slots", "until"],
  ["counters", "window_end"],
  ["sessions", "expires_at"],
  ["spent_tokens", "expires_at"],
  // Not an expiry: when a pending D1 write is retried (src/durable/session-projection.ts).
  ["session_outbox", "retry_at"],
  ["login_failures", "expires_at"],
  ["login_locks", "until"],
  ["mfa_challenges", "expires_at"],
  ["totp_steps", "expires_at"],
  ["webauthn_challenges", "expires_at"],
] as const;

/** When the earliest row that expires does, or null when none is left. */
export function nextExpiry(sql: SqlStorage): number | null {
  // One query per table: the runtime's SQLite refuses a compound SELECT of this many terms.
  const times = EXPIRIES.map(([table, column]) => sql.exec<{ at: number | null }>(`SELECT MIN(${column}) AS at FROM ${table}`).one().at);
  const known = times.filter((at): at is number => at !== null);
  return known.length > 0 ? Math.min(...known) : null;
}

/** True when no table holds a row: nothing that expires, and no lasting flag (a disabled account). */
export function holdsNothing(sql: SqlStorage): boolean {
  return tables(sql).every((name) => sql.exec(`SELECT 1 FROM "${name}" LIMIT 1`).toArray().length === 0);
}
