// Invariant: an account with an authenticator app is never handed tokens for a first factor alone:
// every sign-in route answers the challenge, and only POST /auth/mfa/verify with a right TOTP code or
// an unspent recovery code opens the session (each recovery code once).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  authed,
  enrolTotp,
  expectProblem,
  mfaTokenOf,
  phoneSignIn,
  post,
  signedInUser,
  totpCode,
  uniquePhone,
  verifyMfa,
  type Json,
} from "../helpers";

async function enrolled() {
  const user = await signedInUser({}, "mfa-device");
  const token = user.tokens.access_token as string;
  const factor = await enrolTotp(token);
  return { ...user, token, ...factor };
}

function passwordSignIn(email: string, password: string) {
  return post("/auth/login", { email, password, device_id: "mfa-device" });
}

describe("TOTP enrolment", () => {
  it("is inactive until confirmed, answers the secret, URI and QR code, and 409 once active", async () => {
    const { tokens } = await signedInUser();
    const token = tokens.access_token as string;
    const started = await authed(token, "/users/me/mfa/totp", { method: "POST" });
    expect(started.status).toBe(200);
    const body = await started.json<Json>();
    expect(body.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(body.otpauth_uri).toMatch(/^otpauth:\/\/totp\/.+secret=[A-Z2-7]{32}/);
    expect(body.qr_svg).toMatch(/^<svg/);
    expect(await (await authed(token, "/users/me/mfa")).json()).toEqual({ totp: false, passkeys: 0, recovery_codes_left: 0, required: false });

    const confirm = (code: string) => post("/users/me/mfa/totp/confirm", { code }, { authorization: `Bearer ${token}` });
    await expectProblem(await confirm(totpCode(body.secret as string, 5)), 400, "invalid_code");
    const confirmed = await confirm(totpCode(body.secret as string));
    expect(confirmed.status).toBe(200);
    const { recovery_codes } = await confirmed.json<{ recovery_codes: string[] }>();
    expect(recovery_codes).toHaveLength(10);
    expect(new Set(recovery_codes).size).toBe(10);
    expect(await (await authed(token, "/users/me/mfa")).json()).toEqual({ totp: true, passkeys: 0, recovery_codes_left: 10, required: false });
    await expectProblem(await authed(token, "/users/me/mfa/totp", { method: "POST" }), 409, "mfa_already_enrolled");
  });

  it("a new set of recovery codes replaces the old one; removing the app removes them too", async () => {
    const { email, password, token, recoveryCodes } = await enrolled();
    const renewed = await authed(token, "/users/me/mfa/recovery-codes", { method: "POST" });
    expect(renewed.status).toBe(200);
    const fresh = (await renewed.json<{ recovery_codes: string[] }>()).recovery_codes;
    await expectProblem(await verifyMfa(await mfaTokenOf(await passwordSignIn(email, password)), "recovery_code", recoveryCodes[0]!), 400, "invalid_code");
    expect((await verifyMfa(await mfaTokenOf(await passwordSignIn(email, password)), "recovery_code", fresh[0]!)).status).toBe(200);

    expect((await authed(token, "/users/me/mfa/totp", { method: "DELETE" })).status).toBe(204);
    const plain = await passwordSignIn(email, password);
    expect(plain.status).toBe(200);
    expect((await plain.json<Json>()).access_token).toEqual(expect.any(String));
  });
});

describe("the second step of a sign-in", () => {
  it("a password sign-in answers the challenge; a TOTP code finishes it with a session", async () => {
    const { email, password, secret } = await enrolled();
    const mfaToken = await mfaTokenOf(await passwordSignIn(email, password));
    const res = await verifyMfa(mfaToken, "totp", totpCode(secret, 1));
    expect(res.status).toBe(200);
    const body = await res.json<Json>();
    expect(body).toMatchObject({ token_type: "Bearer", user: { email } });
    expect((await authed(body.access_token as string, "/users/me")).status).toBe(200);
    // Single-use: the same mfa_token again is unknown.
    await expectProblem(await verifyMfa(mfaToken, "totp", totpCode(secret, 1)), 401, "invalid_mfa_token");
  });

  it("a recovery code finishes it once; the same code is refused afterwards", async () => {
    const { email, password, token, recoveryCodes } = await enrolled();
    const code = recoveryCodes[3]!;
    expect((await verifyMfa(await mfaTokenOf(await passwordSignIn(email, password)), "recovery_code", code.toLowerCase())).status).toBe(200);
    await expectProblem(await verifyMfa(await mfaTokenOf(await passwordSignIn(email, password)), "recovery_code", code), 400, "invalid_code");
    expect((await (await authed(token, "/users/me/mfa")).json<Json>()).recovery_codes_left).toBe(9);
  });

  it("unknown, malformed and expired-looking mfa_tokens are invalid_mfa_token", async () => {
    await expectProblem(await verifyMfa("nonsense", "totp", "123456"), 401, "invalid_mfa_token");
    await expectProblem(await verifyMfa(`${crypto.randomUUID()}.${"A".repeat(43)}`, "totp", "123456"), 401, "invalid_mfa_token");
  });

  it("a phone sign-in of an account with an app also answers the challenge", async () => {
    const phone = uniquePhone();
    const first = await phoneSignIn(phone, { device_id: "phone-device" });
    expect(first.status).toBe(200);
    const { access_token } = await first.json<Json>();
    const { secret } = await enrolTotp(access_token as string);
    const mfaToken = await mfaTokenOf(await phoneSignIn(phone, { device_id: "phone-device" }));
    expect((await verifyMfa(mfaToken, "totp", totpCode(secret, 1))).status).toBe(200);
  });

  it("audits the challenge, the failure and the verification", async () => {
    const { email, password, secret, tokens } = await enrolled();
    const mfaToken = await mfaTokenOf(await passwordSignIn(email, password));
    await expectProblem(await verifyMfa(mfaToken, "totp", "000000"), 400, "invalid_code");
    expect((await verifyMfa(mfaToken, "totp", totpCode(secret, 1))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    const { results } = await env.DB.prepare("SELECT action FROM audit_events WHERE subject_id = ?1 OR actor_id = ?1")
      .bind(tokens.user.id)
      .all<{ action: string }>();
    const actions = results.map((r) => r.action);
    for (const action of ["mfa.totp_enrollment_started", "mfa.totp_enabled", "mfa.challenged", "mfa.failed", "mfa.verified"]) {
      expect(actions).toContain(action);
    }
  });
});
