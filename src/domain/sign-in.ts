import type { LoginAttemptInput } from "../durable/login-throttle";
import { AppError } from "../errors";
import { presentUser } from "../presenters";
import type { User } from "../storage/users";
import { amrOf } from "./auth-methods";
import { userSubject, type Deps, type RequestMeta } from "./deps";
import { loginThrottled } from "./limits";
import { openMfaChallenge, type MfaChallenge } from "./mfa-challenge";
import { issueTokenPair, type Device, type TokenPair } from "./session-tokens";
import { hashRefreshToken, newRefreshToken } from "./tokens";

// Every way in (password, email code or link, phone code, Google) ends here: the account must be
// allowed to sign in, a second factor is asked for when the account has one, and only then is a
// session opened. Flows never open sessions themselves, so a new way in cannot skip a check.

export type SignInMethod = "password" | "email_code" | "phone" | "google" | "passkey";

/** A second factor an account can be asked for (a recovery code stands in for the TOTP app). */
export type SecondFactorMethod = "totp" | "recovery_code" | "passkey";

/** Which second factors an account has enrolled; the pipeline asks before it opens a session. */
export interface SecondFactors {
  methodsFor(user: User): Promise<SecondFactorMethod[]>;
}

/** No account has a second factor (domain tests of flows that do not care). */
export const NO_SECOND_FACTORS: SecondFactors = { methodsFor: async () => [] };

export type SignInAttempt = {
  method: SignInMethod;
  device: Device;
  meta: RequestMeta;
  now: number;
  /** The authenticator verified the user itself (WebAuthn UV flag); only passkeys set it. */
  userVerified?: boolean;
  /** The second factor verified after the first (POST /auth/mfa/verify). */
  secondFactor?: SecondFactorMethod;
  /**
   * A right password's attempt on the account's login throttle (POST /auth/login), settled by the
   * user's object in the same call that opens the session or the second-step challenge: refused
   * there (too_many_attempts) when the budget is locked or waiting.
   */
  login?: LoginAttemptInput;
};

export type PublicUser = ReturnType<typeof presentUser>;

export type SignInResult =
  | { kind: "session"; tokens: TokenPair; user: PublicUser }
  | {
      kind: "second_factor";
      user: User;
      methods: SecondFactorMethod[];
      method: SignInMethod;
      device: Device;
      /** The single-use mfa_token that POST /auth/mfa/verify finishes (src/domain/mfa-challenge.ts). */
      challenge: MfaChallenge;
    };

/**
 * A passkey used with user verification is something the user has and something they know or are
 * (NIST SP 800-63B §5.1.8): asking for another factor after it would add nothing.
 */
export function methodSatisfiesTwoFactors(attempt: Pick<SignInAttempt, "method" | "userVerified">): boolean {
  return attempt.method === "passkey" && attempt.userVerified === true;
}

/** Finishes a sign-in for a user who has just proved who they are by `attempt.method`. */
export async function completeSignIn(deps: Deps, user: User, attempt: SignInAttempt): Promise<SignInResult> {
  if (!user.isActive) refuseDisabled(deps, user, attempt.method);
  if (!methodSatisfiesTwoFactors(attempt)) {
    // After a passkey without user verification, another passkey would prove the same thing again.
    const methods = (await deps.secondFactors.methodsFor(user)).filter((m) => !(attempt.method === "passkey" && m === "passkey"));
    if (methods.length > 0) {
      const challenge = await openMfaChallenge(deps, user, attempt);
      return { kind: "second_factor", user, methods, method: attempt.method, device: attempt.device, challenge };
    }
  }
  return { kind: "session", tokens: await openSession(deps, user, attempt), user: presentUser(user) };
}

/** The second factor was verified for a sign-in the pipeline had stopped: the session opens now. */
export async function completeSecondFactor(deps: Deps, user: User, attempt: SignInAttempt): Promise<SignInResult> {
  if (!user.isActive) refuseDisabled(deps, user, attempt.method);
  return { kind: "session", tokens: await openSession(deps, user, attempt), user: presentUser(user) };
}

function refuseDisabled(deps: Deps, user: User, method: SignInMethod): never {
  deps.audit({ action: "login.failed", subjectId: user.id, details: { method, reason: "account_disabled" } });
  throw new AppError("account_disabled");
}

/** Opens the session; private to the pipeline, which has made every check before it. */
async function openSession(deps: Deps, user: User, attempt: SignInAttempt): Promise<TokenPair> {
  const { method, device, meta, now, secondFactor, login } = attempt;
  const sessionId = crypto.randomUUID();
  const authTime = Math.floor(now / 1000);
  const amr = amrOf(attempt);
  const refreshToken = newRefreshToken(user.id, sessionId);
  const expiresAt = now + deps.config.refreshTtl * 1000;
  // The user's object holds the session and writes its row in the D1 list itself.
  const opened = await userSubject(deps, user.id).createSession({
    userId: user.id,
    sessionId,
    tokenHash: await hashRefreshToken(refreshToken),
    expiresAt,
    now,
    deviceId: device.deviceId,
    deviceName: device.deviceName,
    userAgent: meta.userAgent,
    ip: meta.ip,
    authTime,
    amr,
    login,
    // Written by the user's object in the batch that lists the session: no D1 write of its own.
    audit: deps.auditRecord({
      action: "login.succeeded",
      actorId: user.id,
      details: { method, session_id: sessionId, device_id: device.deviceId, ...(secondFactor ? { second_factor: secondFactor } : {}) },
    }),
  });
  if (!opened.ok) {
    if (opened.reason === "throttled") throw loginThrottled(opened.retryAfterMs);
    // Deactivated after the user was read: the user's object refused the session (setActive).
    if (opened.reason === "disabled") refuseDisabled(deps, user, method);
    throw new Error("the new session could not be listed in D1; the user's object ended it");
  }
  const { jti, iat } = opened;
  const claims = { sub: user.id, sid: sessionId, role: user.role, jti, iat, auth_time: authTime, amr };
  return issueTokenPair(deps, claims, refreshToken, expiresAt, now);
}
