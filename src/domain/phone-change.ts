import { AppError } from "../errors";
import { setProvedPhone } from "../storage/contact-changes";
import { uniqueViolation } from "../storage/db";
import { findAccountByPhone, type User } from "../storage/users";
import { activeUser, sendAccountCode, takeAccountCode } from "./account-codes";
import { phoneSubject, userSubject, type Deps, type RequestMeta } from "./deps";
import { COUNTERS, enforceIpLimit, enforceLimit } from "./limits";
import { normalizePhone, type OtpSent } from "./phone-otp";

// Phone add and change: an SMS code to the number, held by the user's Durable Object under its own
// purpose with the number in its payload, so the confirm needs only the code. The number's own send
// budget (shared with phone sign-in) is counted on its Durable Object. On confirmation one batch
// takes the number from an account that only claimed it and gives it to this user, proved: the
// unique index on `phone` lets exactly one of two accounts racing to prove a number win.

const PURPOSE = "phone-change";

type Pending = { phone: string };

export async function requestPhoneChange(deps: Deps, userId: string, rawPhone: string, meta: RequestMeta, now: number): Promise<OtpSent> {
  const phone = normalizePhone(deps, rawPhone);
  const { config } = deps;
  const user = await activeUser(deps, userId);
  const subject = userSubject(deps, user.id);
  await enforceIpLimit(deps, meta.ip, COUNTERS.smsSends, config.limits.otpSendsIp, now);
  // Counted per account before the lookup, so a stolen session cannot probe many numbers.
  await enforceLimit(subject, COUNTERS.smsSends, config.limits.otpSendsPerPhone, now);
  const holder = await findAccountByPhone(deps.db, phone);
  if (holder && holder.id !== user.id && holder.isPhoneVerified) throw new AppError("phone_taken");

  const code = await sendAccountCode(
    deps,
    user,
    {
      purpose: PURPOSE,
      ttlSeconds: config.phoneOtpTtl,
      payload: { phone } satisfies Pending,
      target: phoneSubject(deps, phone),
      counter: COUNTERS.smsSends,
      perTargetLimit: config.limits.otpSendsPerPhone,
      send: (code) =>
        deps.sms.send({
          to: phone,
          text: `Your code to add this number to your account is ${code}. It expires in ${Math.round(config.phoneOtpTtl / 60)} minutes. Do not share it with anyone.`,
        }),
    },
    now,
  );
  deps.audit({ action: "phone.change_requested", actorId: user.id, details: { phone } });
  return {
    phone,
    expiresInSeconds: config.phoneOtpTtl,
    resendAfterSeconds: config.resendCooldown,
    ...(config.environment === "development" ? { otp: code } : {}),
  };
}

/**
 * Gives the user the number the code was sent to, proved. A wrong, expired or used code is 400
 * `invalid_code`; a number another account proved meanwhile is 409 `phone_taken`, nothing written.
 */
export async function confirmPhoneChange(deps: Deps, userId: string, otp: string, meta: RequestMeta, now: number): Promise<User> {
  const { phone } = await takeAccountCode<Pending>(deps, userId, PURPOSE, otp, meta, now);
  const before = await activeUser(deps, userId);
  let user: User | undefined;
  try {
    user = await setProvedPhone(deps.db, userId, phone, new Date(now));
  } catch (err) {
    if (uniqueViolation(err) !== "phone") throw err;
    deps.audit({ action: "phone.change_failed", actorId: userId, details: { phone, reason: "phone_taken" } });
    throw new AppError("phone_taken");
  }
  if (!user) throw new AppError("invalid_access_token");
  deps.audit({ action: "phone.changed", actorId: userId, details: { old_phone: before.phone, new_phone: phone } });
  return user;
}
