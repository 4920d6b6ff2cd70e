// Shapes shared by the SubjectStore Durable Object, its stores and its callers.

/** When and how the session's user last proved who they are (copied into every access token). */
export type SessionAuth = { authTime: number; amr: string[] };

export type RotateResult =
  | ({ ok: true; jti: string; iat: number; expiresAt: number; replay: boolean } & SessionAuth)
  | { ok: false; reason: "invalid" | "reused" };

export type ReauthResult = { ok: true; expiresAt: number } | { ok: false; reason: "ended" };

export type CodeResult =
  | { ok: true; payload: string }
  | { ok: false; reason: "invalid" }
  | { ok: false; reason: "exhausted"; retryAfterMs: number };

/** A code or link check that passed and holds the record for the caller until it settles it. */
export type ClaimResult = CodeResult;

export type LinkLookup = { ok: true; linkExpiresAt: number } | { ok: false };

export type CooldownResult = { ok: true } | { ok: false; retryAfterMs: number };

export type LimitInput = { name: string; count: number; windowMs: number; now: number };

/** The cooldown between two messages carrying a code for `purpose` to one recipient. */
export const resendCooldownName = (purpose: string) => `resend:${purpose}`;

/** Asks the object's alarm to run no later than `at` (housekeeping of expired rows). */
export type ScheduleCleanup = (at: number) => void;

// login_throttle held a count that never decayed; dropping it forgets at most one lock window.
export const SUBJECT_SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY, device_id TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
  prev_hash TEXT, rotated_at INTEGER, access_jti TEXT NOT NULL, access_iat INTEGER NOT NULL,
  expires_at INTEGER NOT NULL, revoked_at INTEGER, created_at INTEGER NOT NULL,
  auth_time INTEGER NOT NULL DEFAULT 0, amr TEXT NOT NULL DEFAULT '[]',
  access_auth_time INTEGER NOT NULL DEFAULT 0, access_amr TEXT NOT NULL DEFAULT '[]');
CREATE INDEX IF NOT EXISTS sessions_prev ON sessions (prev_hash);
CREATE TABLE IF NOT EXISTS session_touches (id TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS session_outbox (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1, opened TEXT,
  revoked_at INTEGER, last_used_at INTEGER, attempts INTEGER NOT NULL DEFAULT 0,
  retry_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS spent_tokens (hash TEXT PRIMARY KEY, session_id TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS codes (
  purpose TEXT PRIMARY KEY, code_hmac TEXT, link_hash TEXT, payload TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, code_expires_at INTEGER NOT NULL, link_expires_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS code_claims (purpose TEXT PRIMARY KEY, until INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS cooldowns (name TEXT PRIMARY KEY, until INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, count INTEGER NOT NULL, window_end INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS slots (name TEXT PRIMARY KEY, holder TEXT NOT NULL, until INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS login_failures (id INTEGER PRIMARY KEY, budget TEXT NOT NULL, at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS login_failures_budget ON login_failures (budget, expires_at);
CREATE TABLE IF NOT EXISTS login_locks (budget TEXT PRIMARY KEY, until INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS mfa_challenges (
  token_hash TEXT PRIMARY KEY, payload TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS totp_steps (id INTEGER PRIMARY KEY, step INTEGER NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS webauthn_challenges (
  key TEXT NOT NULL, purpose TEXT NOT NULL, challenge TEXT NOT NULL, binding TEXT NOT NULL,
  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (key, purpose));
DROP TABLE IF EXISTS login_throttle;
`;

/**
 * Columns added to a table after objects were made with it: CREATE TABLE IF NOT EXISTS leaves an
 * existing table as it was, so each is added where missing. A session made before step-up reads as
 * auth_time 0 (never recent) and amr [].
 */
export const ADDED_COLUMNS = [
  ["sessions", "auth_time", "INTEGER NOT NULL DEFAULT 0"],
  ["sessions", "amr", "TEXT NOT NULL DEFAULT '[]'"],
  ["sessions", "access_auth_time", "INTEGER NOT NULL DEFAULT 0"],
  ["sessions", "access_amr", "TEXT NOT NULL DEFAULT '[]'"],
] as const;
