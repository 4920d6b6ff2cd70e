import { AppError } from "../errors";
import type { Db } from "../storage/db";
import {
  activateTotp,
  deleteSecondFactors,
  findTotp,
  putPendingTotp,
  recoveryCodesLeft,
  replaceRecoveryCodes,
} from "../storage/mfa";
import { countPasskeys } from "../storage/passkeys";
import { findUserById, type User } from "../storage/users";
import { userSubject, type Deps } from "./deps";
import { openSecret, sealSecret } from "./mfa-secrets";
import { hashRecoveryCode, newRecoveryCode, normalizeRecoveryCode, RECOVERY_CODE_COUNT } from "./recovery-codes";
import type { SecondFactorMethod, SecondFactors } from "./sign-in";
import { newTotpSecret, totpEnrolment, totpStepOf } from "./totp";

// A user's second factors: enrolling an authenticator app (TOTP) with its recovery codes, removing
// it, a new set of codes, and the status the account page shows.

/** What the sign-in pipeline asks: the factors a user must present one of. */
export function secondFactorsOf(db: Db): SecondFactors {
  return {
    async methodsFor(user: User): Promise<SecondFactorMethod[]> {
      const [totp, passkeys] = await Promise.all([findTotp(db, user.id), countPasskeys(db, user.id)]);
      return methodsOf({ totp: Boolean(totp?.confirmedAt), passkeys });
    },
  };
}

export function methodsOf(factors: { totp: boolean; passkeys: number }): SecondFactorMethod[] {
  return [...(factors.totp ? (["totp", "recovery_code"] as const) : []), ...(factors.passkeys > 0 ? (["passkey"] as const) : [])];
}

/**
 * The pipeline's question answered for this one user from factors read with their row in the same
 * query (findUserForSignIn): one D1 round trip fewer. Any other user is asked of `deps` as before.
 */
export function withFactorsRead(deps: Deps, user: User, factors: { totp: boolean; passkeys: number }): Deps {
  const methods = methodsOf(factors);
  const { secondFactors } = deps;
  return { ...deps, secondFactors: { methodsFor: async (u) => (u === user ? methods : secondFactors.methodsFor(u)) } };
}

export type MfaStatus = { totp: boolean; passkeys: number; recovery_codes_left: number; required: boolean };

export async function mfaStatus(deps: Deps, user: Pick<User, "id" | "role">): Promise<MfaStatus> {
  const [totp, left, passkeys] = await Promise.all([
    findTotp(deps.db, user.id),
    recoveryCodesLeft(deps.db, user.id),
    countPasskeys(deps.db, user.id),
  ]);
  const active = Boolean(totp?.confirmedAt);
  return { totp: active, passkeys, recovery_codes_left: active ? left : 0, required: deps.config.mfaRequiredRoles.includes(user.role) };
}

/** Whether the user has a second factor enrolled (the gate of roles that require one). */
export async function hasSecondFactor(deps: Deps, userId: string): Promise<boolean> {
  const [totp, passkeys] = await Promise.all([findTotp(deps.db, userId), countPasskeys(deps.db, userId)]);
  return Boolean(totp?.confirmedAt) || passkeys > 0;
}

/** Begins an enrolment: a new secret, stored encrypted, not active until a code confirms it. */
export async function startTotpEnrolment(deps: Deps, user: Pick<User, "id" | "email" | "phone" | "username">, now: number) {
  const secret = await newTotpSecret();
  const stored = await putPendingTotp(deps.db, user.id, await sealSecret(deps.config, user.id, secret), new Date(now));
  if (!stored) throw new AppError("mfa_already_enrolled");
  const account = user.email ?? user.username ?? user.phone ?? user.id;
  const { otpauthUri, qrSvg } = await totpEnrolment(secret, deps.config.totpIssuer, account);
  deps.audit({ action: "mfa.totp_enrollment_started", actorId: user.id });
  return { secret, otpauth_uri: otpauthUri, qr_svg: qrSvg };
}

/** A first code from the app turns the factor on and returns the recovery codes, shown this once. */
export async function confirmTotp(deps: Deps, userId: string, code: string, now: number): Promise<{ recovery_codes: string[] }> {
  const factor = await findTotp(deps.db, userId);
  if (!factor || factor.confirmedAt) throw new AppError("invalid_code");
  const step = await checkTotp(deps, userId, factor, code, now);
  if (step === null) {
    deps.audit({ action: "mfa.failed", actorId: userId, details: { method: "totp", stage: "enrolment" } });
    throw new AppError("invalid_code");
  }
  const codes = newRecoveryCodes();
  const activated = await activateTotp(deps.db, userId, factor.ciphertext, await hashAll(codes), new Date(now));
  if (!activated) throw new AppError("invalid_code");
  deps.audit({ action: "mfa.totp_enabled", actorId: userId });
  return { recovery_codes: codes };
}

export async function disableTotp(deps: Deps, userId: string): Promise<void> {
  await removeFactors(deps, userId);
  deps.audit({ action: "mfa.totp_disabled", actorId: userId });
}

/** An administrator removes another user's factors, passkeys included (a colleague who lost their phone). */
export async function resetSecondFactors(deps: Deps, actorId: string, userId: string): Promise<void> {
  if (!(await findUserById(deps.db, userId))) throw new AppError("user_not_found");
  await removeFactors(deps, userId, { passkeys: true });
  deps.audit({ action: "mfa.reset", actorId, subjectId: userId });
}

export async function regenerateRecoveryCodes(deps: Deps, userId: string, now: number): Promise<{ recovery_codes: string[] }> {
  const factor = await findTotp(deps.db, userId);
  if (!factor?.confirmedAt) throw new AppError("not_found", { detail: "No second factor is enrolled" });
  const codes = newRecoveryCodes();
  await replaceRecoveryCodes(deps.db, userId, await hashAll(codes), new Date(now));
  deps.audit({ action: "mfa.recovery_codes_regenerated", actorId: userId });
  return { recovery_codes: codes };
}

/**
 * The step a code belongs to when it is right for the user's secret, and not yet spent: the step is
 * spent in the user's object, so the same code is never accepted twice (RFC 6238 §5.2).
 */
export async function checkTotp(
  deps: Deps,
  userId: string,
  factor: { ciphertext: string; keyId: string },
  code: string,
  now: number,
  spend: (step: number) => Promise<boolean> = async (step) => (await userSubject(deps, userId).acceptTotpStep({ step, now })).ok,
): Promise<number | null> {
  const secret = await openSecret(deps.config, userId, factor);
  if (secret === null) throw new Error(`the TOTP secret of ${userId} cannot be decrypted (key ${factor.keyId})`);
  const step = await totpStepOf(secret, code.trim(), now);
  if (step === null) return null;
  return (await spend(step)) ? step : null;
}

export function recoveryCodeHash(code: string): Promise<string> | null {
  const normalized = normalizeRecoveryCode(code);
  return normalized ? hashRecoveryCode(normalized) : null;
}

async function removeFactors(deps: Deps, userId: string, options: { passkeys?: boolean } = {}): Promise<void> {
  await deleteSecondFactors(deps.db, userId, options);
  await userSubject(deps, userId).clearSecondStep();
}

function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
}

function hashAll(codes: string[]): Promise<string[]> {
  return Promise.all(codes.map((code) => hashRecoveryCode(normalizeRecoveryCode(code)!)));
}
