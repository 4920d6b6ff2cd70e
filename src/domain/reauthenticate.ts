import { AppError } from "../errors";
import { findTotp } from "../storage/mfa";
import { findUserById, type User } from "../storage/users";
import { amrOf, type AmrValue } from "./auth-methods";
import { userSubject, type Deps, type RequestMeta } from "./deps";
import { COUNTERS, enforceIpLimit, loginThrottled } from "./limits";
import { MFA_USER_MAX_ATTEMPTS, MFA_USER_WINDOW_MS } from "./mfa-challenge";
import { burnPasswordCheck, verifyPassword } from "./passwords";
import { verifyReauthPasskey } from "./passkey-sign-in";
import { checkTotp } from "./second-factors";
import { issueAccessToken, type AccessTokenAnswer } from "./session-tokens";
import type { AuthenticationResponseJSON } from "./webauthn";

// POST /auth/reauthenticate (step-up): the signed-in user proves who they are again, and their
// session's auth_time becomes now, so the sensitive routes (requireRecentAuth) open for a while.
// Each proof is one verifier below; a new kind (a passkey) is one more entry in VERIFIERS.

export type ReauthProof =
  | { method: "password"; password: string }
  | { method: "totp"; code: string }
  | { method: "passkey"; challengeId: string; credential: AuthenticationResponseJSON };

type Verifier<P extends ReauthProof> = (deps: Deps, user: User, proof: P, meta: RequestMeta, now: number) => Promise<AmrValue[]>;

const VERIFIERS: { [M in ReauthProof["method"]]: Verifier<Extract<ReauthProof, { method: M }>> } = {
  password: verifyPasswordProof,
  totp: verifyTotpProof,
  passkey: verifyPasskeyProof,
};

export async function reauthenticate(
  deps: Deps,
  auth: { userId: string; sessionId: string },
  proof: ReauthProof,
  meta: RequestMeta,
  now: number,
): Promise<AccessTokenAnswer> {
  const user = await findUserById(deps.db, auth.userId);
  if (!user) throw new AppError("invalid_access_token");
  if (!user.isActive) {
    failed(deps, user.id, proof.method, "account_disabled");
    throw new AppError("account_disabled");
  }
  const verify = VERIFIERS[proof.method] as Verifier<ReauthProof>;
  const amr = await verify(deps, user, proof, meta, now);

  const authTime = Math.floor(now / 1000);
  const recorded = await userSubject(deps, user.id).reauthenticateSession({ sessionId: auth.sessionId, now, authTime, amr });
  if (!recorded.ok) {
    failed(deps, user.id, proof.method, "session_ended");
    throw new AppError("invalid_access_token");
  }
  deps.audit({ action: "reauth.succeeded", actorId: user.id, details: { method: proof.method, session_id: auth.sessionId } });
  // A new access token for the same session; the refresh token is untouched and its next rotation
  // reads the new auth_time from the session.
  return issueAccessToken(
    deps,
    { sub: user.id, sid: auth.sessionId, role: user.role, jti: crypto.randomUUID(), iat: authTime, auth_time: authTime, amr },
    now,
  );
}

/**
 * Through the account's login throttle in the user's object, the same one /auth/login and the
 * password change use: a stolen access token buys no extra guesses.
 */
async function verifyPasswordProof(deps: Deps, user: User, proof: { password: string }, meta: RequestMeta, now: number) {
  const { login } = deps.config;
  await enforceIpLimit(deps, meta.ip, COUNTERS.login, login.ipLimit, now);
  const subject = userSubject(deps, user.id);
  const slot = await subject.beginLogin({ now, delayAfter: login.delayAfter, lockAfter: login.lockAfter, lockMs: login.lockSeconds * 1000 });
  if (!slot.ok) {
    failed(deps, user.id, "password", "throttled");
    throw loginThrottled(slot.retryAfterMs);
  }
  if (!user.passwordHash) {
    await burnPasswordCheck(proof.password);
    failed(deps, user.id, "password", "no_password");
    throw new AppError("invalid_credentials");
  }
  if (!(await verifyPassword(user.passwordHash, proof.password))) {
    failed(deps, user.id, "password", "wrong_password");
    throw new AppError("invalid_credentials");
  }
  await subject.loginSucceeded();
  return ["pwd"] satisfies AmrValue[];
}

/**
 * Through the per-user second-step budget shared with POST /auth/mfa/verify (10 wrong codes per 15
 * minutes), the attempt taken before the code is checked; the accepted step is spent there, so a
 * code that finished a sign-in cannot reauthenticate, nor the other way round.
 */
async function verifyTotpProof(deps: Deps, user: User, proof: { code: string }, _meta: RequestMeta, now: number) {
  const factor = await findTotp(deps.db, user.id);
  if (!factor?.confirmedAt) throw new AppError("totp_not_enrolled");
  const subject = userSubject(deps, user.id);
  const slot = await subject.beginStepUpAttempt({ now, userLimit: { count: MFA_USER_MAX_ATTEMPTS, windowMs: MFA_USER_WINDOW_MS } });
  if (!slot.ok) {
    deps.audit({ action: "mfa.locked", subjectId: user.id, details: { reason: "user_limit", stage: "reauthenticate" } });
    failed(deps, user.id, "totp", "throttled");
    throw new AppError("too_many_attempts", { retryAfter: Math.max(1, Math.ceil(slot.retryAfterMs / 1000)) });
  }
  const spend = async (step: number) => (await subject.finishStepUpTotp({ step, now })).ok;
  if ((await checkTotp(deps, user.id, factor, proof.code, now, spend)) === null) {
    failed(deps, user.id, "totp", "wrong_code");
    throw new AppError("invalid_code");
  }
  return ["otp"] satisfies AmrValue[];
}

/**
 * An assertion to the challenge of POST /auth/reauthenticate/options, by one of the user's own
 * passkeys (each refusal audited there as passkey.failed). Nothing to guess, so nothing to count.
 */
async function verifyPasskeyProof(
  deps: Deps,
  user: User,
  proof: { challengeId: string; credential: AuthenticationResponseJSON },
  _meta: RequestMeta,
  now: number,
) {
  const { userVerified } = await verifyReauthPasskey(deps, user, { challengeId: proof.challengeId, credential: proof.credential }, now);
  return amrOf({ method: "passkey", userVerified });
}

function failed(deps: Deps, userId: string, method: string, reason: string): void {
  deps.audit({ action: "reauth.failed", subjectId: userId, details: { method, reason } });
}
