import type { SecondFactorMethod, SignInMethod } from "./sign-in";

// How a session's user proved who they are, as access tokens say it (`amr`, RFC 8176 §2), and
// whether they did so recently enough for a sensitive change (`auth_time`, OpenID Connect Core §2).

export type AmrValue = "pwd" | "otp" | "sms" | "hwk" | "ext" | "mfa";

const FIRST_FACTOR: Record<SignInMethod, AmrValue> = {
  password: "pwd",
  email_code: "otp",
  phone: "sms",
  google: "ext",
  passkey: "hwk",
};

const SECOND_FACTOR: Record<SecondFactorMethod, AmrValue> = {
  totp: "otp",
  recovery_code: "otp",
  passkey: "hwk",
};

/**
 * The amr of a sign-in: the first factor's value first, then the second's, then `mfa` when two
 * factors were verified (a passkey with user verification counts as two). Without duplicates.
 */
export function amrOf(attempt: { method: SignInMethod; userVerified?: boolean; secondFactor?: SecondFactorMethod }): AmrValue[] {
  const values: AmrValue[] = [FIRST_FACTOR[attempt.method]];
  if (attempt.secondFactor) values.push(SECOND_FACTOR[attempt.secondFactor], "mfa");
  else if (attempt.method === "passkey" && attempt.userVerified === true) values.push("mfa");
  return [...new Set(values)];
}

/** Whether the user proved who they are within `maxAgeSeconds` of `nowSeconds`. */
export function isRecentAuth(authTime: number, nowSeconds: number, maxAgeSeconds: number): boolean {
  return authTime > 0 && nowSeconds - authTime <= maxAgeSeconds;
}
