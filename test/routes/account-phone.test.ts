// POST /users/me/phone and /users/me/phone/confirm: an SMS code to the number, the number given to the
// user (proved) on confirmation only, 409 phone_taken for a number another account proved, and an
// unproved claim on another account released as the phone sign-in releases it.
import { afterEach, describe, expect, it } from "vitest";
import {
  auditDetailsOf,
  authed,
  confirmPhoneChange,
  expectProblem,
  lastSmsCode,
  messagesTo,
  moveClock,
  phoneOf,
  phoneSignIn,
  phoneUser,
  requestPhoneChange,
  restoreClock,
  signedInUser,
  uniquePhone,
  usersWithPhone,
  wrongCode,
  type Json,
} from "../helpers";

async function emailUser(overrides: Json = {}) {
  const user = await signedInUser(overrides, "phone-change");
  return { ...user, id: user.tokens.user.id as string, token: user.tokens.access_token as string };
}

describe("adding a phone number", () => {
  it("sends an SMS code (the send-otp answer, no code in it outside development), then the number is the user's, proved", async () => {
    const user = await emailUser();
    const phone = uniquePhone();
    const res = await requestPhoneChange(user.token, phone);
    expect(res.status).toBe(200);
    const body = await res.json<Json>();
    expect(body).toEqual({
      success: true,
      message: expect.any(String),
      phone,
      expires_in_seconds: expect.any(Number),
      resend_after_seconds: expect.any(Number),
    });
    // Not applied before the code comes back.
    expect((await authed(user.token, "/users/me").then((r) => r.json<Json>())).phone).toBeNull();

    const confirmed = await confirmPhoneChange(user.token, lastSmsCode(phone));
    expect(confirmed.status).toBe(200);
    expect(await confirmed.json<Json>()).toMatchObject({ id: user.id, email: user.email, phone, is_phone_verified: true });
    expect(await auditDetailsOf("phone.changed", user.id)).toEqual([{ old_phone: null, new_phone: phone }]);

    // Now a way in: the phone sign-in lands on this account.
    const signedIn = await phoneSignIn(phone);
    expect(signedIn.status).toBe(200);
    expect(await signedIn.json<Json>()).toMatchObject({ created: false, user: { id: user.id } });
  });

  it("a wrong code is 400 invalid_code; a used code too", async () => {
    const user = await emailUser();
    const phone = uniquePhone();
    expect((await requestPhoneChange(user.token, phone)).status).toBe(200);
    const code = lastSmsCode(phone);
    await expectProblem(await confirmPhoneChange(user.token, wrongCode(code, 0)), 400, "invalid_code");
    expect((await confirmPhoneChange(user.token, code)).status).toBe(200);
    await expectProblem(await confirmPhoneChange(user.token, code), 400, "invalid_code");
  });

  it("409 phone_taken when another account proved the number, and no SMS is sent", async () => {
    const holder = await phoneUser();
    const user = await emailUser();
    const before = messagesTo(holder.phone).length;
    await expectProblem(await requestPhoneChange(user.token, holder.phone), 409, "phone_taken");
    expect(messagesTo(holder.phone)).toHaveLength(before);
  });

  it("409 phone_taken at confirmation when another account proved the number meanwhile; nothing changes", async () => {
    const user = await emailUser();
    const phone = uniquePhone();
    expect((await requestPhoneChange(user.token, phone)).status).toBe(200);
    const code = lastSmsCode(phone);
    const other = await phoneSignIn(phone);
    expect(await other.json<Json>()).toMatchObject({ created: true });
    await expectProblem(await confirmPhoneChange(user.token, code), 409, "phone_taken");
    expect((await authed(user.token, "/users/me").then((r) => r.json<Json>())).phone).toBeNull();
    expect(await usersWithPhone(phone)).toBe(1);
    expect(await auditDetailsOf("phone.change_failed", user.id)).toEqual([{ phone, reason: "phone_taken" }]);
  });

  it("an unproved claim on another account (typed at email sign-up) is released", async () => {
    const phone = uniquePhone();
    const claimant = await emailUser({ phone });
    expect(await phoneOf(claimant.email)).toEqual({ phone, verified: 0 });
    const user = await emailUser();
    expect((await requestPhoneChange(user.token, phone)).status).toBe(200);
    expect((await confirmPhoneChange(user.token, lastSmsCode(phone))).status).toBe(200);
    expect(await phoneOf(claimant.email)).toEqual({ phone: null, verified: 0 });
    expect(await phoneOf(user.email)).toEqual({ phone, verified: 1 });
  });

  it("the user's own unproved number is proved the same way", async () => {
    const phone = uniquePhone();
    const user = await emailUser({ phone });
    expect((await requestPhoneChange(user.token, phone)).status).toBe(200);
    expect((await confirmPhoneChange(user.token, lastSmsCode(phone))).status).toBe(200);
    expect(await phoneOf(user.email)).toEqual({ phone, verified: 1 });
  });

  it("a bad number is 400 invalid_phone; a bad body 400 validation_error", async () => {
    const user = await emailUser();
    await expectProblem(await requestPhoneChange(user.token, "+1 555"), 400, "invalid_phone");
    await expectProblem(await confirmPhoneChange(user.token, "abc"), 400, "validation_error");
  });
});

describe("changing a phone user's number", () => {
  afterEach(restoreClock);

  it("the new number replaces the old one, which is then free: its sign-in makes a new account", async () => {
    const user = await phoneUser();
    const next = uniquePhone();
    expect((await requestPhoneChange(user.token, next)).status).toBe(200);
    const confirmed = await confirmPhoneChange(user.token, lastSmsCode(next));
    expect(await confirmed.json<Json>()).toMatchObject({ id: user.id, phone: next, is_phone_verified: true });
    expect(await auditDetailsOf("phone.changed", user.id)).toEqual([{ old_phone: user.phone, new_phone: next }]);
    expect(await usersWithPhone(user.phone)).toBe(0);
    const again = await phoneSignIn(user.phone);
    const body = await again.json<Json>();
    expect(body.created).toBe(true);
    expect(body.user.id).not.toBe(user.id);
  });

  it("asking for another number (after the cooldown) replaces the first code: only the last number can be proved", async () => {
    const user = await phoneUser();
    const [first, second] = [uniquePhone(), uniquePhone()];
    expect((await requestPhoneChange(user.token, first)).status).toBe(200);
    const firstCode = lastSmsCode(first);
    moveClock(61_000);
    expect((await requestPhoneChange(user.token, second)).status).toBe(200);
    await expectProblem(await confirmPhoneChange(user.token, firstCode), 400, "invalid_code");
    expect(await (await confirmPhoneChange(user.token, lastSmsCode(second))).json<Json>()).toMatchObject({ phone: second });
    expect(await usersWithPhone(first)).toBe(0);
  });
});
