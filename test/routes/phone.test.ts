import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sendPhoneOtp } from "../../src/domain/phone-otp";
import {
  authed,
  call,
  expectProblem,
  lastCode,
  lastSmsCode,
  login,
  messagesTo,
  NO_META,
  post,
  registerUser,
  sendOtp,
  signedInUser,
  testDeps,
  uniqueEmail,
  uniquePhone,
  userRows,
  usersWithPhone,
  type Json,
} from "../helpers";

async function verifyOtp(phone: string, extra: Json = {}): Promise<Json> {
  const res = await post("/auth/phone/verify-otp", { phone, otp: lastSmsCode(phone), device_id: "phone-app", ...extra });
  expect(res.status).toBe(200);
  return res.json<Json>();
}

describe("phone sign-in", () => {
  it("verify-otp without device_id binds the session to the default device", async () => {
    const phone = uniquePhone();
    await sendOtp(phone);
    const res = await post("/auth/phone/verify-otp", { phone, otp: lastSmsCode(phone) });
    expect(res.status).toBe(200);
    const tokens = await res.json<Json>();
    expect((await post("/auth/refresh", { refresh_token: tokens.refresh_token, device_id: "default" })).status).toBe(200);
  });

  it("send + verify creates the user; a second sign-in finds the same user", async () => {
    const phone = uniquePhone();
    expect(await sendOtp(phone)).toEqual({
      success: true,
      message: "OTP sent successfully",
      phone,
      expires_in_seconds: 120,
      resend_after_seconds: 60,
    });
    expect(messagesTo(phone)).toMatchObject([{ channel: "sms", to: phone }]);

    const first = await verifyOtp(phone, { first_name: "Rahim", last_name: "Uddin" });
    expect(first.created).toBe(true);
    expect(first.token_type).toBe("Bearer");
    expect(first.user).toMatchObject({
      phone,
      is_phone_verified: true,
      is_email_verified: false,
      email: null,
      role: "CUSTOMER",
      first_name: "Rahim",
      last_name: "Uddin",
      full_name: "Rahim Uddin",
    });
    const me = await authed(first.access_token, "/users/me");
    expect(me.status).toBe(200);
    expect((await me.json<Json>()).id).toBe(first.user.id);

    // A used code leaves no record behind, so no cooldown stands between sign-ins.
    await sendOtp(phone);
    const second = await verifyOtp(phone, { first_name: "Someone", last_name: "Else" });
    expect(second.created).toBe(false);
    expect(second.user.id).toBe(first.user.id);
    expect(second.user.first_name).toBe("Rahim");
    expect(await usersWithPhone(phone)).toBe(1);
  });

  it("reads a national number in the default region (DEFAULT_PHONE_REGION=BD)", async () => {
    const phone = uniquePhone();
    const national = `0${phone.slice("+880".length)}`; // "017........"
    expect(await sendOtp(national)).toMatchObject({ phone });
    expect(messagesTo(phone)).toHaveLength(1);
    const res = await post("/auth/phone/verify-otp", { phone: national, otp: lastSmsCode(phone), device_id: "d" });
    expect(res.status).toBe(200);
    expect((await res.json<Json>()).user.phone).toBe(phone);
  });

  it("accepts a trailing slash", async () => {
    const phone = uniquePhone();
    const res = await post("/auth/phone/send-otp/", { phone });
    expect(res.status).toBe(200);
    expect((await post("/auth/phone/verify-otp/", { phone, otp: lastSmsCode(phone), device_id: "d" })).status).toBe(200);
  });

  it("answers 400 invalid_phone for numbers that do not parse or are not valid", async () => {
    for (const phone of ["12345", "+8801", "not a phone", "+99912345678", "", "+880171234567890"]) {
      await expectProblem(await post("/auth/phone/send-otp", { phone }), 400, "invalid_phone");
      await expectProblem(
        await post("/auth/phone/verify-otp", { phone, otp: "123456", device_id: "d" }),
        400,
        "invalid_phone",
      );
    }
    // A missing or mistyped field is still a validation error.
    await expectProblem(await post("/auth/phone/send-otp", {}), 400, "validation_error");
    await expectProblem(await post("/auth/phone/send-otp", { phone: 8801712345678 }), 400, "validation_error");
  });

  it("refuses fixed-line numbers, which cannot receive the code by SMS, and accepts mobile ones of other regions", async () => {
    // Dhaka, London and Berlin landlines: valid numbers, but not mobile ones.
    for (const phone of ["+88029123456", "029123456", "+442071838750", "+493012345678"]) {
      await expectProblem(await post("/auth/phone/send-otp", { phone }), 400, "invalid_phone");
    }
    for (const phone of ["+447911123456", "+4915123456789"]) {
      expect((await post("/auth/phone/send-otp", { phone })).status).toBe(200);
    }
  });

  it("never returns the code outside development; in development it does", async () => {
    const phone = uniquePhone();
    expect(await sendOtp(phone)).not.toHaveProperty("otp");

    const { deps } = testDeps();
    expect(deps.config.environment).toBe("test");
    const other = uniquePhone();
    const sent = await sendPhoneOtp(deps, other, NO_META, Date.now());
    expect(sent).not.toHaveProperty("otp");

    const dev = { ...deps, config: { ...deps.config, environment: "development" as const } };
    const third = uniquePhone();
    const devSent = await sendPhoneOtp(dev, third, NO_META, Date.now());
    expect(devSent.otp).toBe(lastSmsCode(third));
  });

  it("keeps an email given at phone sign-up unverified, and never links it to the account that owns it", async () => {
    const owner = await signedInUser();
    const phone = uniquePhone();
    await sendOtp(phone);
    const created = await verifyOtp(phone, { email: owner.email.toUpperCase() });
    expect(created.created).toBe(true);
    expect(created.user.id).not.toBe(owner.tokens.user.id);
    expect(created.user).toMatchObject({ email: owner.email, is_email_verified: false, phone });

    const row = await env.DB.prepare("SELECT email, unverified_email FROM users WHERE id = ?")
      .bind(created.user.id)
      .first<{ email: string | null; unverified_email: string | null }>();
    expect(row).toEqual({ email: null, unverified_email: owner.email });

    // The owner's account is untouched and still signs in with its password.
    const tokens = await login(owner.email, owner.password, "laptop");
    expect(tokens.user).toMatchObject({ id: owner.tokens.user.id, email: owner.email, is_email_verified: true, phone: null });
    expect(await userRows(owner.email)).toBe(1);
  });

  it("a number only typed at email sign-up (never proved) does not sign its owner into that account", async () => {
    const phone = uniquePhone();
    const email = uniqueEmail();
    const { password } = await registerUser({ email, phone });
    const verified = await post("/auth/verify-email", { email, code: lastCode(email), device_id: "d" });
    const emailUser = (await verified.json<Json>()).user;
    expect(emailUser).toMatchObject({ phone, is_phone_verified: false });

    await sendOtp(phone);
    const phoneUser = await verifyOtp(phone);
    expect(phoneUser.created).toBe(true);
    expect(phoneUser.user.id).not.toBe(emailUser.id);
    expect(phoneUser.user).toMatchObject({ phone, is_phone_verified: true });
    // The unproved claim is dropped from the email account, which otherwise goes on as before.
    const tokens = await login(email, password, "laptop");
    expect(tokens.user).toMatchObject({ id: emailUser.id, phone: null, is_phone_verified: false });
    expect(await usersWithPhone(phone)).toBe(1);
  });

  it("two concurrent verifies of the first code make one user", async () => {
    const phone = uniquePhone();
    await sendOtp(phone);
    const otp = lastSmsCode(phone);
    const answers = await Promise.all(
      [1, 2].map((i) => post("/auth/phone/verify-otp", { phone, otp, device_id: `d${i}` })),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([200, 400]);
    await expectProblem(answers.find((r) => r.status === 400)!, 400, "invalid_code");
    expect(await usersWithPhone(phone)).toBe(1);
  });

  it("refuses a deactivated user with 403 account_disabled", async () => {
    const phone = uniquePhone();
    await sendOtp(phone);
    const { user } = await verifyOtp(phone);
    await env.DB.prepare("UPDATE users SET is_active = 0 WHERE id = ?").bind(user.id).run();
    await sendOtp(phone);
    await expectProblem(
      await post("/auth/phone/verify-otp", { phone, otp: lastSmsCode(phone), device_id: "d" }),
      403,
      "account_disabled",
    );
  });

  it("is described in /openapi.json", async () => {
    const doc = await (await call("/openapi.json")).json<Json>();
    const send = doc.paths["/api/v1/auth/phone/send-otp"]?.post;
    const verify = doc.paths["/api/v1/auth/phone/verify-otp"]?.post;
    expect(send.tags).toEqual(["Phone"]);
    expect(verify.tags).toEqual(["Phone"]);
    expect(Object.keys(send.responses)).toEqual(expect.arrayContaining(["200", "400", "429", "502"]));
    expect(Object.keys(verify.responses)).toEqual(expect.arrayContaining(["200", "400", "403", "429"]));
    expect(send.requestBody.content["application/json"].schema).toBeDefined();
    expect(JSON.stringify(verify.responses["200"])).toContain("PhoneSignIn");
  });
});
