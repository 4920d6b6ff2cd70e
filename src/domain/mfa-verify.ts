import { AppError } from "../errors";
import { findTotp, spendRecoveryCode } from "../storage/mfa";
import { findUserById } from "../storage/users";
import { userSubject, type Deps, type RequestMeta } from "./deps";
import {
  MFA_TOKEN_MAX_ATTEMPTS,
  MFA_USER_MAX_ATTEMPTS,
  MFA_USER_WINDOW_MS,
  parseMfaToken,
  type PendingSignIn,
} from "./mfa-challenge";
import { checkPasskeyStep } from "./passkey-sign-in";
import { checkTotp, recoveryCodeHash } from "./second-factors";
import type { AuthenticationResponseJSON } from "./webauthn";
import { completeSecondFactor, type SignInResult } from "./sign-in";

// POST /auth/mfa/verify: the second step of a sign-in. The attempt is taken in the user's object
// before the code is checked (5 per mfa_token, 10 per user in 15 minutes), so no burst gets more;
// a right code ends the challenge there, and only then does the pipeline open the session.

export type MfaVerifyInput =
  | { mfaToken: string; method: "totp" | "recovery_code"; code: string }
  | { mfaToken: string; method: "passkey"; credential: AuthenticationResponseJSON };

export async function verifyMfa(deps: Deps, input: MfaVerifyInput, meta: RequestMeta, now: number): Promise<SignInResult> {
  const { userId, tokenHash } = await parseMfaToken(input.mfaToken);
  const subject = userSubject(deps, userId);
  const begun = await subject.beginMfaAttempt({
    tokenHash,
    now,
    maxAttempts: MFA_TOKEN_MAX_ATTEMPTS,
    userLimit: { count: MFA_USER_MAX_ATTEMPTS, windowMs: MFA_USER_WINDOW_MS },
  });
  if (!begun.ok) {
    if (begun.reason === "invalid") throw new AppError("invalid_mfa_token");
    deps.audit({ action: "mfa.locked", subjectId: userId, details: { reason: begun.burned ? "token_burned" : "user_limit" } });
    throw new AppError("too_many_attempts", { retryAfter: Math.max(1, Math.ceil(begun.retryAfterMs / 1000)) });
  }
  const pending = JSON.parse(begun.payload) as PendingSignIn;
  const user = await findUserById(deps.db, userId);
  if (!user) throw new AppError("invalid_mfa_token");

  let totpStep: number | undefined;
  let right = false;
  if (input.method === "passkey") {
    // A passkey without user verification began this sign-in: another passkey proves nothing more.
    if (pending.method === "passkey") return refuse(deps, userId, "passkey", "method_not_offered", "invalid_passkey");
    const checked = await checkPasskeyStep(deps, userId, tokenHash, input.credential, now);
    if (!checked.ok) return refuse(deps, userId, "passkey", checked.reason, "invalid_passkey");
    right = true;
  } else if (input.method === "totp") {
    const factor = await findTotp(deps.db, userId);
    if (factor?.confirmedAt) {
      // The step is spent with the challenge, in one step of the object (finishMfaChallenge).
      totpStep = (await checkTotp(deps, userId, factor, input.code, now, async () => true)) ?? undefined;
      right = totpStep !== undefined;
    }
  } else {
    const hash = recoveryCodeHash(input.code);
    right = hash !== null && (await spendRecoveryCode(deps.db, userId, await hash, new Date(now)));
  }
  if (!right) return refuse(deps, userId, input.method, "wrong_code");

  const finished = await subject.finishMfaChallenge({ tokenHash, now, totpStep });
  if (!finished.ok) {
    if (finished.reason === "replayed") return refuse(deps, userId, input.method, "replayed_code");
    // A parallel request with a right code finished it first.
    throw new AppError("invalid_mfa_token");
  }
  deps.audit({ action: "mfa.verified", actorId: userId, details: { method: input.method, sign_in: pending.method } });
  return completeSecondFactor(deps, user, { method: pending.method, device: pending.device, meta, now, secondFactor: input.method });
}

function refuse(deps: Deps, userId: string, method: string, reason: string, code: "invalid_code" | "invalid_passkey" = "invalid_code"): never {
  deps.audit({ action: "mfa.failed", subjectId: userId, details: { method, reason } });
  throw new AppError(code);
}
