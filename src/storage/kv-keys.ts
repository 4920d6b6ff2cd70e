// Every KV key the service writes, with its TTL. KV is eventually consistent and its shortest TTL is
// 60 s, so it only holds what tolerates that; real expiry times also live inside the values or in
// the Durable Object that owns the record.

const MIN_KV_TTL = 60;

export const kvTtl = (seconds: number) => Math.max(MIN_KV_TTL, Math.ceil(seconds));

export const kvKeys = {
  /** `revoked-sid:<session id>` → "1"; TTL = access-token lifetime (no token of the session outlives it). */
  revokedSession: (sessionId: string) => `revoked-sid:${sessionId}`,
  /** `verify-link:<sha256 of link token>` → email; TTL = pending-registration lifetime. */
  verifyLink: (tokenHash: string) => `verify-link:${tokenHash}`,
  /**
   * `google-state:<sha256 of OAuth state>` → JSON { code_verifier, nonce, device_id, redirect_uri,
   * expires_at, role }; TTL 600 s (GOOGLE_STATE_TTL_SECONDS, src/domain/google.ts). Deleted by the callback that reads it.
   */
  googleState: (stateHash: string) => `google-state:${stateHash}`,
  /** `reset-link:<sha256 of link token>` → email; TTL = password-reset lifetime (15 min). */
  resetLink: (tokenHash: string) => `reset-link:${tokenHash}`,
};
