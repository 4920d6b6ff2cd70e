import { AppError } from "../errors";
import { insertSession, markSessionsRevoked, findActiveSession, touchSession } from "../storage/sessions";
import { presentUser } from "../presenters";
import { findUserCached, type User } from "../storage/users";
import { revokedHere, userSubject, type Deps, type RequestMeta } from "./deps";
import {
  hashRefreshToken,
  newRefreshToken,
  parseRefreshToken,
  signAccessToken,
  successorRefreshToken,
  type Role,
} from "./tokens";

export type TokenPair = {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  access_expires_at: string;
  refresh_token: string;
  refresh_expires_at: string;
};

export type Device = { deviceId: string; deviceName: string | null };

export type SignInMethod = "password" | "email_code" | "phone" | "google";

async function pair(
  deps: Deps,
  claims: { sub: string; sid: string; role: Role; jti: string; iat: number },
  refreshToken: string,
  refreshExpiresAt: number,
  now: number,
): Promise<TokenPair> {
  const access = await signAccessToken(deps.config, claims);
  return {
    access_token: access.token,
    token_type: "Bearer",
    expires_in: Math.max(0, access.exp - Math.floor(now / 1000)),
    access_expires_at: new Date(access.exp * 1000).toISOString(),
    refresh_token: refreshToken,
    refresh_expires_at: new Date(refreshExpiresAt).toISOString(),
  };
}

/** Opens a new session for a user who has just proved who they are. */
export async function signIn(deps: Deps, user: User, device: Device, meta: RequestMeta, now: number, method: SignInMethod) {
  if (!user.isActive) {
    deps.audit({ action: "login.failed", subjectId: user.id, details: { method, reason: "account_disabled" } });
    throw new AppError("account_disabled");
  }
  const sessionId = crypto.randomUUID();
  const refreshToken = newRefreshToken(user.id, sessionId);
  const expiresAt = now + deps.config.refreshTtl * 1000;
  // The D1 row first, then the Durable Object: a revocation that runs in between finds the row and
  // stamps it, so D1 never lists as open a session the Durable Object has revoked.
  await insertSession(deps.db, {
    id: sessionId,
    userId: user.id,
    deviceId: device.deviceId,
    deviceName: device.deviceName,
    userAgent: meta.userAgent,
    ip: meta.ip,
    createdAt: new Date(now),
    lastUsedAt: new Date(now),
    expiresAt: new Date(expiresAt),
    revokedAt: null,
  });
  const opened = await userSubject(deps, user.id).createSession({
    sessionId,
    deviceId: device.deviceId,
    tokenHash: await hashRefreshToken(refreshToken),
    expiresAt,
    now,
  });
  if (!opened.ok) {
    await markSessionsRevoked(deps.db, user.id, [sessionId], new Date(now));
    deps.audit({ action: "login.failed", subjectId: user.id, details: { method, reason: "account_disabled" } });
    throw new AppError("account_disabled");
  }
  const { jti, iat } = opened;
  const tokens = await pair(deps, { sub: user.id, sid: sessionId, role: user.role, jti, iat }, refreshToken, expiresAt, now);
  deps.audit({
    action: "login.succeeded",
    actorId: user.id,
    details: { method, session_id: sessionId, device_id: device.deviceId },
  });
  return { ...tokens, user: presentUser(user) };
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
  if (result.touch) deps.defer(() => touchSession(deps.db, parsed.sessionId, new Date(now)));
  return pair(
    deps,
    { sub: user.id, sid: parsed.sessionId, role: user.role, jti: result.jti, iat: result.iat },
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

export async function revokeOwnSession(deps: Deps, userId: string, sessionId: string, now: number): Promise<void> {
  const session = await findActiveSession(deps.db, userId, sessionId, new Date(now));
  if (!session) throw new AppError("session_not_found");
  const { revoked } = revokedHere(deps, await userSubject(deps, userId).revokeSessions({ userId, ids: [sessionId], now }));
  if (revoked.length === 0) await markSessionsRevoked(deps.db, userId, [sessionId], new Date(now));
  deps.audit({ action: "session.revoked", actorId: userId, details: { session_id: sessionId } });
}
