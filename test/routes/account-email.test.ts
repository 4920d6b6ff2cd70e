// POST /users/me/email and /users/me/email/confirm: a code to the new address, the change applied on
// confirmation only, a notice to the old address, 409 for a taken address, and a phone user's
// unverified address proved through the same routes.
import { afterEach, describe, expect, it } from "vitest";
import {
  accountsWithEmail,
  auditDetailsOf,
  authed,
  confirmEmailChange,
  EMAIL_CHANGED_NOTICE,
  emailChangeCode,
  expectProblem,
  lastCode,
  messagesTo,
  moveClock,
  PASSWORD,
  phoneUser,
  post,
  requestEmailChange,
  restoreClock,
  setFirstPassword,
  signedInUser,
  uniqueEmail,
  waitForMessages,
  wrongCode,
  type Json,
} from "../helpers";

async function emailUser() {
  const user = await signedInUser({}, "email-change");
  return { ...user, id: user.tokens.user.id as string, token: user.tokens.access_token as string };
}

describe("email change", () => {
  afterEach(restoreClock);

  it("sends a code to the new address, changes nothing until it is confirmed, then tells the old address", async () => {
    const user = await emailUser();
    const next = uniqueEmail("changed");
    const res = await requestEmailChange(user.token, next.toUpperCase());
    expect(res.status).toBe(202);
    expect(await res.json<Json>()).toMatchObject({ email: next, expires_in_seconds: expect.any(Number), resend_after_seconds: expect.any(Number) });

    // Not applied yet: the old address still signs in, the new one does not.
    expect((await authed(user.token, "/users/me").then((r) => r.json<Json>())).email).toBe(user.email);
    expect((await post("/auth/login", { email: next, password: PASSWORD, device_id: "d" })).status).toBe(401);
    expect(messagesTo(user.email).filter((m) => m.subject === EMAIL_CHANGED_NOTICE)).toHaveLength(0);

    const confirmed = await confirmEmailChange(user.token, emailChangeCode(next));
    expect(confirmed.status).toBe(200);
    expect(await confirmed.json<Json>()).toMatchObject({ id: user.id, email: next, is_email_verified: true });
    expect((await authed(user.token, "/users/me").then((r) => r.json<Json>())).email).toBe(next);

    const notices = (await waitForMessages(user.email, 2)).filter((m) => m.subject === EMAIL_CHANGED_NOTICE);
    expect(notices).toHaveLength(1);
    // It says when, and no code or the new address travels to the old inbox.
    expect(notices[0]!.text).toContain(new Date().toISOString().slice(0, 10));
    expect(notices[0]!.text).not.toContain(next);
    expect(notices[0]!.text).not.toMatch(/\b\d{6}\b/);

    expect((await post("/auth/login", { email: next, password: PASSWORD, device_id: "d" })).status).toBe(200);
    await expectProblem(await post("/auth/login", { email: user.email, password: PASSWORD, device_id: "d" }), 401, "invalid_credentials");
    expect(await auditDetailsOf("email.change_requested", user.id)).toEqual([{ email: next }]);
    expect(await auditDetailsOf("email.changed", user.id)).toEqual([{ old_email: user.email, new_email: next, first_verified: false }]);
  });

  it("the code is single use, and a wrong code answers 400 invalid_code", async () => {
    const user = await emailUser();
    const next = uniqueEmail("single");
    expect((await requestEmailChange(user.token, next)).status).toBe(202);
    const code = emailChangeCode(next);
    await expectProblem(await confirmEmailChange(user.token, wrongCode(code, 0)), 400, "invalid_code");
    expect((await confirmEmailChange(user.token, code)).status).toBe(200);
    await expectProblem(await confirmEmailChange(user.token, code), 400, "invalid_code");
  });

  it("the code works only for the account that asked for it", async () => {
    const [user, other] = await Promise.all([emailUser(), emailUser()]);
    const next = uniqueEmail("bound");
    expect((await requestEmailChange(user.token, next)).status).toBe(202);
    await expectProblem(await confirmEmailChange(other.token, emailChangeCode(next)), 400, "invalid_code");
    expect(await accountsWithEmail(next)).toBe(0);
  });

  it("the fifth miss burns the code (then 429 too_many_attempts, the right code too), even under a burst", async () => {
    const user = await emailUser();
    const next = uniqueEmail("burst");
    expect((await requestEmailChange(user.token, next)).status).toBe(202);
    const code = emailChangeCode(next);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => confirmEmailChange(user.token, wrongCode(code, i))));
    const codes = await Promise.all(answers.map(async (r) => (await r.json<Json>()).code));
    expect(codes.filter((c) => c === "invalid_code")).toHaveLength(5);
    expect(codes.filter((c) => c === "too_many_attempts")).toHaveLength(15);
    await expectProblem(await confirmEmailChange(user.token, code), 429, "too_many_attempts");
    expect(await accountsWithEmail(next)).toBe(0);
  });

  it("409 email_taken for an address another account holds, or the caller's own, with nothing sent", async () => {
    const [user, other] = await Promise.all([emailUser(), emailUser()]);
    const before = messagesTo(other.email).length;
    const taken = await expectProblem(await requestEmailChange(user.token, other.email.toUpperCase()), 409, "email_taken");
    expect(JSON.stringify(taken)).not.toContain(other.id);
    await expectProblem(await requestEmailChange(user.token, user.email), 409, "email_taken");
    expect(messagesTo(other.email)).toHaveLength(before);
  });

  it("409 email_taken at confirmation when the address got an account meanwhile; nothing changes", async () => {
    const user = await emailUser();
    const next = uniqueEmail("meanwhile");
    expect((await requestEmailChange(user.token, next)).status).toBe(202);
    const code = emailChangeCode(next);
    const signedUp = await signedInUser({ email: next }, "meanwhile");
    await expectProblem(await confirmEmailChange(user.token, code), 409, "email_taken");
    expect((await authed(user.token, "/users/me").then((r) => r.json<Json>())).email).toBe(user.email);
    expect(await accountsWithEmail(next)).toBe(1);
    expect((await authed(signedUp.tokens.access_token, "/users/me").then((r) => r.json<Json>())).email).toBe(next);
    expect(await auditDetailsOf("email.change_failed", user.id)).toEqual([{ email: next, reason: "email_taken" }]);
  });

  it("asking needs a recent sign-in: a token signed in 11 minutes ago gets 403 and nothing is sent", async () => {
    const user = await emailUser();
    const next = uniqueEmail("stale");
    moveClock(11 * 60_000);
    await expectProblem(await requestEmailChange(user.token, next), 403, "reauthentication_required");
    expect(messagesTo(next)).toHaveLength(0);
  });

  it("invalid bodies are 400 validation_error", async () => {
    const user = await emailUser();
    await expectProblem(await requestEmailChange(user.token, "not-an-email"), 400, "validation_error");
    await expectProblem(await post("/users/me/email", {}, { authorization: `Bearer ${user.token}` }), 400, "validation_error");
    await expectProblem(await confirmEmailChange(user.token, "12345"), 400, "validation_error");
  });
});

describe("a phone user's address", () => {
  it("the unverified address given at phone sign-up is proved through the same routes; no notice is sent", async () => {
    const given = uniqueEmail("phone-given");
    const user = await phoneUser({ email: given });
    expect(user.tokens.user).toMatchObject({ email: given, is_email_verified: false });
    expect((await requestEmailChange(user.token, given)).status).toBe(202);
    const confirmed = await confirmEmailChange(user.token, emailChangeCode(given));
    expect(confirmed.status).toBe(200);
    expect(await confirmed.json<Json>()).toMatchObject({ email: given, is_email_verified: true, phone: user.phone, is_phone_verified: true });
    expect(await auditDetailsOf("email.changed", user.id)).toEqual([{ old_email: null, new_email: given, first_verified: true }]);

    // With a password it is now a second way in: email and password.
    expect((await setFirstPassword(user.token, PASSWORD)).status).toBe(200);
    expect((await post("/auth/login", { email: given, password: PASSWORD, device_id: "d" })).status).toBe(200);
    expect(messagesTo(given).filter((m) => m.subject === EMAIL_CHANGED_NOTICE)).toHaveLength(0);
  });

  it("or another address instead: the unverified one is dropped", async () => {
    const given = uniqueEmail("phone-given");
    const chosen = uniqueEmail("phone-chosen");
    const user = await phoneUser({ email: given });
    expect((await requestEmailChange(user.token, chosen)).status).toBe(202);
    expect((await confirmEmailChange(user.token, emailChangeCode(chosen))).status).toBe(200);
    const me = await authed(user.token, "/users/me").then((r) => r.json<Json>());
    expect(me).toMatchObject({ email: chosen, is_email_verified: true });
    expect(messagesTo(given)).toHaveLength(0);
  });
});

describe("what the old address can no longer do", () => {
  it("a reset code sent to the old address before the change resets nothing after it", async () => {
    const user = await emailUser();
    const before = messagesTo(user.email).length;
    expect((await post("/auth/password-reset/request", { email: user.email })).status).toBe(202);
    await waitForMessages(user.email, before + 1);
    const resetCode = lastCode(user.email);
    const next = uniqueEmail("after-reset");
    expect((await requestEmailChange(user.token, next)).status).toBe(202);
    expect((await confirmEmailChange(user.token, emailChangeCode(next))).status).toBe(200);
    await expectProblem(
      await post("/auth/password-reset/confirm", { email: user.email, code: resetCode, new_password: "another fine passphrase" }),
      400,
      "invalid_code",
    );
    expect((await post("/auth/login", { email: next, password: PASSWORD, device_id: "d" })).status).toBe(200);
  });

  it("a sign-in code sent to the old address before the change signs nobody in after it", async () => {
    const user = await emailUser();
    const before = messagesTo(user.email).length;
    expect((await post("/auth/email/send-code", { email: user.email })).status).toBe(202);
    await waitForMessages(user.email, before + 1);
    const signInCode = lastCode(user.email);
    const next = uniqueEmail("after-code");
    expect((await requestEmailChange(user.token, next)).status).toBe(202);
    expect((await confirmEmailChange(user.token, emailChangeCode(next))).status).toBe(200);
    await expectProblem(await post("/auth/email/verify-code", { email: user.email, code: signInCode, device_id: "d" }), 400, "invalid_code");
  });
});
