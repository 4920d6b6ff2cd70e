import { AppError } from "../errors";
import { toE164 } from "./phone-number";
import { uniqueViolation } from "../storage/db";
import { findAccountByPhone, insertUserWithProvedPhone, type User } from "../storage/users";
import { failedCheck } from "./code-check";
import { deliverCode } from "./code-delivery";
import { randomDigits } from "./crypto";
import { phoneSubject, type Deps, type RequestMeta } from "./deps";
import { COUNTERS, counter, enforceIpLimit } from "./limits";
import { codeHmac, normalizeEmail } from "./registration";
import type { Device } from "./session-tokens";
import { signUpRole, type SignUpRole } from "./roles";
import { completeSignIn } from "./sign-in";

// Phone sign-in: a 6-digit code sent by SMS, held (as an HMAC) by the number's Durable Object
// (`phone:<E.164>`), which makes it single use, counts misses exactly and enforces the resend
// cooldown. The first successful verify creates the user.

const PURPOSE = "phone";

/** E.164 from what the client typed (national form read in the default region), or 400 invalid_phone. */
export function normalizePhone(deps: Deps, raw: string): string {
  const phone = toE164(raw, deps.config.defaultPhoneRegion);
  if (!phone) throw new AppError("invalid_phone");
  return phone;
}

export type OtpSent = {
  phone: string;
  expiresInSeconds: number;
  resendAfterSeconds: number;
  /** The code itself, only with ENVIRONMENT=development: never in test, staging or production. */
  otp?: string;
};

export async function sendPhoneOtp(deps: Deps, rawPhone: string, meta: RequestMeta, now: number): Promise<OtpSent> {
  const phone = normalizePhone(deps, rawPhone);
  const { config } = deps;
  await enforceIpLimit(deps, meta.ip, COUNTERS.smsSends, config.limits.otpSendsIp, now);
  const subject = phoneSubject(deps, phone);
  const code = randomDigits(6);
  const ttlMs = config.phoneOtpTtl * 1000;
  const cooldownMs = config.resendCooldown * 1000;
  const put = await subject.putCode({
    purpose: PURPOSE,
    codeHmac: await codeHmac(deps, PURPOSE, phone, code),
    linkHash: null,
    payload: "",
    now,
    codeTtlMs: ttlMs,
    linkTtlMs: 0,
    // The DO applies the cooldown only while a record lives, so the record outlives both.
    recordTtlMs: Math.max(ttlMs, cooldownMs),
    cooldownMs,
    sendLimit: counter(COUNTERS.smsSends, config.limits.otpSendsPerPhone),
  });
  if (!put.ok) throw new AppError("rate_limited", { retryAfter: put.retryAfterMs / 1000 });
  await deliverCode(subject, { purpose: PURPOSE, counter: COUNTERS.smsSends, dropRecord: true }, () =>
    deps.sms.send({
      to: phone,
      text: `Your sign-in code is ${code}. It expires in ${Math.round(config.phoneOtpTtl / 60)} minutes. Do not share it with anyone.`,
    }),
  );
  return {
    phone,
    expiresInSeconds: config.phoneOtpTtl,
    resendAfterSeconds: config.resendCooldown,
    ...(config.environment === "development" ? { otp: code } : {}),
  };
}

/** What a first sign-in creates the user with; an existing user keeps their own (role included). */
export type PhoneProfile = { firstName: string | null; lastName: string | null; email: string | null; role?: SignUpRole };

export async function verifyPhoneOtp(
  deps: Deps,
  input: { phone: string; otp: string; device: Device; profile: PhoneProfile },
  meta: RequestMeta,
  now: number,
) {
  const phone = normalizePhone(deps, input.phone);
  await enforceIpLimit(deps, meta.ip, COUNTERS.codeVerify, deps.config.limits.codeVerifyIp, now);
  const result = await phoneSubject(deps, phone).verifyCode({
    purpose: PURPOSE,
    codeHmac: await codeHmac(deps, PURPOSE, phone, input.otp),
    now,
    maxAttempts: deps.config.codeMaxAttempts,
  });
  if (!result.ok) throw failedCheck(result, "invalid_code");
  const { user, created } = await accountForProvedPhone(deps, phone, input.profile, now);
  if (created) deps.audit({ action: "user.created", actorId: user.id, details: { method: "phone", phone, role: user.role } });
  return { ...(await completeSignIn(deps, user, { method: "phone", device: input.device, meta, now })), created };
}

/**
 * The account a proved number signs into. Only an account whose number was itself proved is
 * linked: a number merely typed at email sign-up proves nothing, so signing its holder in would
 * hand that account to whoever owns the number.
 */
async function accountForProvedPhone(
  deps: Deps,
  phone: string,
  profile: PhoneProfile,
  now: number,
): Promise<{ user: User; created: boolean }> {
  const holder = await findAccountByPhone(deps.db, phone);
  if (holder?.isPhoneVerified) return { user: holder, created: false };
  const fullName = [profile.firstName, profile.lastName].filter(Boolean).join(" ");
  try {
    const user = await insertUserWithProvedPhone(
      deps.db,
      {
        id: crypto.randomUUID(),
        phone,
        firstName: profile.firstName,
        lastName: profile.lastName,
        fullName: fullName || null,
        role: signUpRole(profile.role),
        // Unproved: shown to its owner, never used to find or link an account.
        unverifiedEmail: profile.email ? normalizeEmail(profile.email) : null,
      },
      new Date(now),
    );
    return { user, created: true };
  } catch (err) {
    // The code is single use, but a second code sent after the first verify can race its insert:
    // the unique index on phone lets one row in, and the other verify signs into it.
    if (uniqueViolation(err) !== "phone") throw err;
    const winner = await findAccountByPhone(deps.db, phone);
    if (!winner?.isPhoneVerified) throw err;
    return { user: winner, created: false };
  }
}
