import { AppError } from "../errors";
import { findActiveSession } from "../storage/sessions";
import { findUserCached } from "../storage/users";
import { revokedHere, userSubject, type Deps } from "./deps";
import {
  hashRefreshToken,
  parseRefreshToken,
  signAccessToken,
  successorRefreshToken,
  type AccessTokenClaims,
} from "./tokens";

export type AccessTokenAnswer = {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  access_expires_at: string;
};

export type TokenPair = AccessTokenAnswer & {
  refresh_token: string;
  refresh_expires_at: string;
};

export type Device = { deviceId: string; deviceName: string | null };

/** Signs an access token of a session, as the token answers carry it. */
export async function issueAccessToken(deps: Deps, claims: AccessTokenClaims, now: number): Promise<AccessTokenAnswer> {
  const access = await signAccessToken(deps.config, claims);
  return {
    access_token: access.token,
    token_type: "Bearer",
    expires_in: Math.max(0, access.exp - Math.floor(now / 1000)),
    access_expires_at: new Date(access.exp * 1000).toISOString(),
  };
}

/** Signs the access token of a session and pairs it with the session's refresh token. */
export async function issueTokenPair(
  deps: Deps,
  claims: AccessTokenClaims,
  refreshToken: string,
  refreshExpiresAt: number,
  now: number,
): Promise<TokenPair> {
  return {
    ...(await issueAccessToken(deps, claims, now)),
    refresh_token: refreshToken,
    refresh_expires_at: new Date(refreshExpiresAt).toISOString(),
  };
}

export async function refresh(deps: Deps, input: { refreshToken: string; deviceId: string }, now: number): Promise<TokenPair> {
  const parsed = parseRefreshToken(input.refreshToken);
  if (!parsed) throw new AppError("invalid_refresh_token");
  const [presentedHash, successor, user] = await Promise.all([
    hashRefreshToken(parsed.token),
    successorRefreshToken(deps.config, parsed),
    // Only copied into the new access token (role) and checked for deactivation, which the Durable
    // Object enforces itself: the hot-path cache may answer.
    findUserCached(deps.config, deps.db, parsed.userId),
  ]);
  const subject = userSubject(deps, parsed.userId);
  const result = await subject.rotateRefresh({
    userId: parsed.userId,
    sessionId: parsed.sessionId,
    presentedHash,
    successorHash: await hashRefreshToken(successor),
    deviceId: input.deviceId,
    now,
    graceMs: deps.config.refreshGrace * 1000,
  });
  if (!result.ok) {
    if (result.reason === "reused") {
      // The Durable Object revoked the session when it saw the spent token again.
      revokedHere(deps, { revoked: [parsed.sessionId] });
      deps.audit({ action: "refresh.reuse_detected", subjectId: parsed.userId, details: { session_id: parsed.sessionId } });
      throw new AppError("refresh_token_reused");
    }
    throw new AppError("invalid_refresh_token");
  }
  if (!user || !user.isActive) {
    revokedHere(deps, await subject.revokeSessions({ userId: parsed.userId, ids: [parsed.sessionId], now }));
    throw new AppError("invalid_refresh_token");
  }
  return issueTokenPair(
    deps,
    // The session's auth_time and amr, as stored: a refresh proves nothing new about the user.
    {
      sub: user.id, sid: parsed.sessionId, role: user.role, jti: result.jti, iat: result.iat,
      auth_time: result.authTime, amr: result.amr,
    },
    successor,
    result.expiresAt,
    now,
  );
}

/** Ends the session a refresh token belongs to; unknown or malformed tokens change nothing. */
export async function logout(deps: Deps, refreshToken: string, now: number): Promise<void> {
  const parsed = parseRefreshToken(refreshToken);
  if (!parsed) return;
  const { revoked } = revokedHere(
    deps,
    await userSubject(deps, parsed.userId).revokeByToken({
      userId: parsed.userId,
      presentedHash: await hashRefreshToken(parsed.token),
      now,
    }),
  );
  if (revoked.length > 0) deps.audit({ action: "session.logout", actorId: parsed.userId, details: { session_id: revoked[0] } });
}

export async function revokeAllSessions(deps: Deps, userId: string, now: number): Promise<number> {
  const { revoked } = revokedHere(deps, await userSubject(deps, userId).revokeSessions({ userId, ids: null, now }));
  deps.audit({ action: "session.logout_all", actorId: userId, details: { revoked: revoked.length } });
  return revoked.length;
}

/** Ends one session from the user's list; the user's object stamps the row even if it had ended it already. */
export async function revokeOwnSession(deps: Deps, userId: string, sessionId: string, now: number): Promise<void> {
  const session = await findActiveSession(deps.db, userId, sessionId, new Date(now));
  if (!session) throw new AppError("session_not_found");
  revokedHere(deps, await userSubject(deps, userId).revokeSessions({ userId, ids: [sessionId], now }));
  deps.audit({ action: "session.revoked", actorId: userId, details: { session_id: sessionId } });
}
