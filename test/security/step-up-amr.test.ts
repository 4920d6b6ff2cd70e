// Invariant: an access token says how its session's user proved who they are (`amr`, RFC 8176):
// the first factor's value first (pwd, otp for an emailed code, sms, ext for Google, hwk for a
// passkey), then the second factor's and `mfa` when two were verified, without duplicates; and
// `auth_time` is when that sign-in happened. A refresh carries both unchanged.
import { describe, expect, it } from "vitest";
import { amrOf } from "../../src/domain/auth-methods";
import { googleIdToken, newGoogleAccount, signInWithIdToken } from "../helpers/google-fake";
import {
  authOf,
  enrolTotp,
  login,
  mfaTokenOf,
  phoneSignIn,
  post,
  PASSWORD,
  rotate,
  signedInUser,
  totpCode,
  uniquePhone,
  verifyMfa,
  type Json,
} from "../helpers";

async function tokensOf(res: Response): Promise<Json> {
  expect(res.status).toBe(200);
  return res.json<Json>();
}

function expectFreshAuth(accessToken: string, amr: string[]) {
  const claims = authOf(accessToken);
  expect(claims.amr).toEqual(amr);
  expect(claims.auth_time).toBe(claims.iat);
}

describe("amr per sign-in method", () => {
  it("email code (the verification sign-in): otp", async () => {
    const { tokens } = await signedInUser({}, "amr-email");
    expectFreshAuth(tokens.access_token, ["otp"]);
  });

  it("password: pwd, and a refresh keeps it", async () => {
    const { email } = await signedInUser({}, "amr-pwd");
    const tokens = await login(email, PASSWORD, "amr-pwd");
    expectFreshAuth(tokens.access_token, ["pwd"]);
    const pair = await rotate(tokens.refresh_token, "amr-pwd");
    expect(authOf(pair.access_token)).toMatchObject({ amr: ["pwd"], auth_time: authOf(tokens.access_token).auth_time });
  });

  it("phone code: sms", async () => {
    const tokens = await tokensOf(await phoneSignIn(uniquePhone()));
    expectFreshAuth(tokens.access_token, ["sms"]);
  });

  it("Google: ext", async () => {
    const tokens = await tokensOf(await signInWithIdToken(await googleIdToken(newGoogleAccount())));
    expectFreshAuth(tokens.access_token, ["ext"]);
  });

  it("password then TOTP, or then a recovery code: pwd, otp, mfa", async () => {
    const { email, tokens } = await signedInUser({}, "amr-mfa");
    const { secret, recoveryCodes } = await enrolTotp(tokens.access_token);
    const signIn = () => post("/auth/login", { email, password: PASSWORD, device_id: "amr-mfa" });

    const withTotp = await tokensOf(await verifyMfa(await mfaTokenOf(await signIn()), "totp", totpCode(secret, 1)));
    expectFreshAuth(withTotp.access_token, ["pwd", "otp", "mfa"]);
    const withRecovery = await tokensOf(await verifyMfa(await mfaTokenOf(await signIn()), "recovery_code", recoveryCodes[0]!));
    expectFreshAuth(withRecovery.access_token, ["pwd", "otp", "mfa"]);
  });
});

describe("amrOf", () => {
  it("orders the first factor first, adds mfa for two factors, and never repeats a value", () => {
    expect(amrOf({ method: "passkey", userVerified: true })).toEqual(["hwk", "mfa"]);
    expect(amrOf({ method: "passkey", userVerified: false })).toEqual(["hwk"]);
    expect(amrOf({ method: "password", secondFactor: "passkey" })).toEqual(["pwd", "hwk", "mfa"]);
    expect(amrOf({ method: "email_code", secondFactor: "totp" })).toEqual(["otp", "mfa"]);
    expect(amrOf({ method: "phone", secondFactor: "recovery_code" })).toEqual(["sms", "otp", "mfa"]);
    expect(amrOf({ method: "google" })).toEqual(["ext"]);
  });
});
