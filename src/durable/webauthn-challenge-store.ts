import type { ScheduleCleanup } from "./subject-types";

// WebAuthn challenges waiting for the authenticator's answer (src/domain/webauthn.ts): in a user's
// object for registration, step-up and the second step of a sign-in, in an object of their own
// (`webauthn:<challenge id>`) for a discoverable sign-in, where no user is known yet. Each row is
// taken (read and deleted) in one synchronous step, so of any number of parallel answers to one
// challenge exactly one gets it; a failed answer spends it too.

/** Challenges one object keeps per purpose; an older one is dropped when a new one is issued. */
const MAX_PER_PURPOSE = 10;

export type WebAuthnPurpose = "registration" | "sign_in" | "second_step" | "reauth";

export type PutChallengeInput = {
  /** How the answer names the challenge: its challenge_id, or the challenge itself. */
  key: string;
  purpose: WebAuthnPurpose;
  challenge: string;
  /** What else the answer must match (the mfa_token's hash, the session id); "" for nothing. */
  binding: string;
  now: number;
  ttlMs: number;
};

export type TakeChallengeInput = { key: string; purpose: WebAuthnPurpose; binding: string; now: number };

export type TakenChallenge = { ok: true; challenge: string } | { ok: false; reason: "unknown" | "expired" | "mismatch" };

export class WebAuthnChallengeStore {
  constructor(
    private readonly sql: SqlStorage,
    private readonly scheduleCleanup: ScheduleCleanup,
  ) {}

  put(input: PutChallengeInput): void {
    const expiresAt = input.now + input.ttlMs;
    this.sql.exec(
      `INSERT OR REPLACE INTO webauthn_challenges (key, purpose, challenge, binding, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
      input.key, input.purpose, input.challenge, input.binding, input.now, expiresAt,
    );
    this.sql.exec(
      `DELETE FROM webauthn_challenges WHERE purpose = ? AND key NOT IN
        (SELECT key FROM webauthn_challenges WHERE purpose = ? ORDER BY created_at DESC, rowid DESC LIMIT ?)`,
      input.purpose, input.purpose, MAX_PER_PURPOSE,
    );
    this.scheduleCleanup(expiresAt);
  }

  /** Takes the challenge, once: it is deleted whatever the outcome of the check that follows. */
  take(input: TakeChallengeInput): TakenChallenge {
    const row = this.sql
      .exec<{ challenge: string; binding: string; expires_at: number }>(
        `SELECT challenge, binding, expires_at FROM webauthn_challenges WHERE key = ? AND purpose = ?`,
        input.key, input.purpose,
      )
      .toArray()[0];
    if (!row) return { ok: false, reason: "unknown" };
    this.sql.exec(`DELETE FROM webauthn_challenges WHERE key = ? AND purpose = ?`, input.key, input.purpose);
    if (row.expires_at <= input.now) return { ok: false, reason: "expired" };
    if (row.binding !== input.binding) return { ok: false, reason: "mismatch" };
    return { ok: true, challenge: row.challenge };
  }

  clear(): void {
    this.sql.exec(`DELETE FROM webauthn_challenges`);
  }

  prune(now: number): void {
    this.sql.exec(`DELETE FROM webauthn_challenges WHERE expires_at <= ?`, now);
  }
}
