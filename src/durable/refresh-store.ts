import type { ReauthResult, RotateResult, ScheduleCleanup, SessionAuth } from "./subject-types";

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
  created_at: number;
  auth_time: number;
  amr: string;
  /** auth_time and amr as the last pair carried them, for a repeat inside the grace window. */
  access_auth_time: number;
  access_amr: string;
};

/** The sessions list shows the last use to the minute: its D1 row is written at most once a minute per session. */
export const TOUCH_INTERVAL_MS = 60_000;

export type RotateInput = {
  sessionId: string; presentedHash: string; successorHash: string; deviceId: string; now: number; graceMs: number;
};

/** Sessions and their refresh-token chains in the Durable Object's SQLite. Synchronous: no await. */
export class RefreshStore {
  constructor(
    private readonly sql: SqlStorage,
    private readonly scheduleCleanup: ScheduleCleanup,
  ) {}

  create(input: { sessionId: string; deviceId: string; tokenHash: string; expiresAt: number; now: number } & SessionAuth) {
    const jti = crypto.randomUUID();
    const iat = Math.floor(input.now / 1000);
    this.sql.exec(
      `INSERT INTO sessions
         (id, device_id, token_hash, access_jti, access_iat, expires_at, created_at, auth_time, amr, access_auth_time, access_amr)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      input.sessionId, input.deviceId, input.tokenHash, jti, iat, input.expiresAt, input.now,
      input.authTime, JSON.stringify(input.amr), input.authTime, JSON.stringify(input.amr),
    );
    this.scheduleCleanup(input.expiresAt);
    return { jti, iat };
  }

  /**
   * One rotation step (RFC 9700 §4.14). The successor's hash comes from the caller and is
   * deterministic, so a repeat of the just-rotated token inside the grace window gets the same
   * successor and access-token claims, auth_time and amr included (a rotation copies the session's,
   * which a refresh never moves, and a repeat gets the copy, even after a reauthentication). A spent
   * token outside that is reuse: the session is revoked here, and `revoked` names it so the caller
   * can propagate. `touch`: the session's last use is due to be written to its D1 row.
   */
  rotate(input: RotateInput): RotateResult & { revoked?: string[]; touch?: boolean } {
    const { now } = input;
    const current = this.#session("token_hash", input.presentedHash);
    if (current) {
      if (!this.#usable(current, input, now)) return { ok: false, reason: "invalid" };
      const jti = crypto.randomUUID();
      const iat = Math.floor(now / 1000);
      this.sql.exec(
        `UPDATE sessions SET prev_hash = token_hash, token_hash = ?, rotated_at = ?, access_jti = ?, access_iat = ?,
           access_auth_time = auth_time, access_amr = amr WHERE id = ?`,
        input.successorHash, now, jti, iat, current.id,
      );
      this.sql.exec(
        `INSERT OR IGNORE INTO spent_tokens (hash, session_id, expires_at) VALUES (?, ?, ?)`,
        input.presentedHash, current.id, current.expires_at,
      );
      return {
        ok: true, jti, iat, expiresAt: current.expires_at, replay: false, ...authOf(current), touch: this.#claimTouch(current, now),
      };
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
      return {
        ok: true, jti: previous.access_jti, iat: previous.access_iat, expiresAt: previous.expires_at, replay: true,
        authTime: previous.access_auth_time, amr: parseAmr(previous.access_amr),
      };
    }

    const spent = this.#spent(input.presentedHash);
    if (!spent || spent.id !== input.sessionId) return { ok: false, reason: "invalid" };
    const revoked = this.markRevoked([spent.id], now);
    if (revoked.length === 0) return { ok: false, reason: "invalid" };
    return { ok: false, reason: "reused", revoked };
  }

  /**
   * The user proved who they are again in this session (POST /auth/reauthenticate): later refreshes
   * carry the new auth_time and amr. Refused for a session that has ended.
   */
  reauthenticate(input: { sessionId: string; now: number } & SessionAuth): ReauthResult {
    const row = this.sql
      .exec<{ expires_at: number }>(
        `SELECT expires_at FROM sessions WHERE id = ? AND revoked_at IS NULL AND expires_at > ?`,
        input.sessionId, input.now,
      )
      .toArray()[0];
    if (!row) return { ok: false, reason: "ended" };
    this.sql.exec(`UPDATE sessions SET auth_time = ?, amr = ? WHERE id = ?`, input.authTime, JSON.stringify(input.amr), input.sessionId);
    return { ok: true, expiresAt: row.expires_at };
  }

  /** The session a refresh token (current, previous or spent) belongs to. */
  sessionOfToken(hash: string): string | undefined {
    return (this.#session("token_hash", hash) ?? this.#session("prev_hash", hash) ?? this.#spent(hash))?.id;
  }

  /** When a session this store holds expires (revoked or not). */
  expiryOf(id: string): number | undefined {
    return this.sql.exec<{ at: number }>(`SELECT expires_at AS at FROM sessions WHERE id = ?`, id).toArray()[0]?.at;
  }

  activeIds(now: number): string[] {
    return this.sql
      .exec<{ id: string }>(`SELECT id FROM sessions WHERE revoked_at IS NULL AND expires_at > ?`, now)
      .toArray()
      .map((r) => r.id);
  }

  /** Marks sessions revoked; returns those that were still active. */
  markRevoked(ids: string[], now: number): string[] {
    const revoked: string[] = [];
    for (const id of ids) {
      const changed = this.sql.exec(`UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, now, id).rowsWritten;
      if (changed > 0) revoked.push(id);
    }
    return revoked;
  }

  prune(now: number): void {
    this.sql.exec(`DELETE FROM spent_tokens WHERE expires_at <= ?`, now);
    this.sql.exec(`DELETE FROM sessions WHERE expires_at <= ?`, now);
    this.sql.exec(`DELETE FROM session_touches WHERE id NOT IN (SELECT id FROM sessions)`);
  }

  #session(column: "token_hash" | "prev_hash", hash: string): SessionState | undefined {
    return this.sql.exec<SessionState>(`SELECT * FROM sessions WHERE ${column} = ?`, hash).toArray()[0];
  }

  #claimTouch(s: SessionState, now: number): boolean {
    const last = this.sql.exec<{ at: number }>(`SELECT at FROM session_touches WHERE id = ?`, s.id).toArray()[0]?.at ?? s.created_at;
    if (now - last < TOUCH_INTERVAL_MS) return false;
    this.sql.exec(`INSERT OR REPLACE INTO session_touches (id, at) VALUES (?, ?)`, s.id, now);
    return true;
  }

  #spent(hash: string): { id: string } | undefined {
    return this.sql.exec<{ id: string }>(`SELECT session_id AS id FROM spent_tokens WHERE hash = ?`, hash).toArray()[0];
  }

  #usable(s: SessionState, input: { sessionId: string; deviceId: string }, now: number): boolean {
    return s.revoked_at === null && s.expires_at > now && s.id === input.sessionId && s.device_id === input.deviceId;
  }
}

function authOf(s: SessionState): SessionAuth {
  return { authTime: s.auth_time, amr: parseAmr(s.amr) };
}

function parseAmr(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
  } catch {
    return [];
  }
}
