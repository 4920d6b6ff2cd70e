// Invariant: a phone sign-in code gets at most 5 guesses in all, however many arrive at once: the 5th
// miss burns it and every later guess, the right code included, answers 429 too_many_attempts with
// Retry-After. A code is single use and dies 120 s after it was sent.
import { describe, expect, it } from "vitest";
import { sendPhoneOtp, verifyPhoneOtp } from "../../src/domain/phone-otp";
import {
  expectProblem,
  lastSmsCode,
  NO_META,
  outcome,
  post,
  sendOtp,
  tally,
  testDeps,
  uniquePhone,
  usersWithPhone,
  wrongCode,
  type Outcome,
} from "../helpers";

const MAX_ATTEMPTS = 5;
const OTP_TTL_MS = 120_000;

function verify(phone: string, otp: string): Promise<Response> {
  return post("/auth/phone/verify-otp", { phone, otp, device_id: "attacker" });
}

async function guess(phone: string, otp: string): Promise<Outcome> {
  return outcome(await verify(phone, otp));
}

async function sentCode(): Promise<{ phone: string; code: string }> {
  const phone = uniquePhone();
  await sendOtp(phone);
  return { phone, code: lastSmsCode(phone) };
}

const device = { deviceId: "d", deviceName: null };
const noProfile = { firstName: null, lastName: null, email: null };

describe("phone OTP attempt cap", () => {
  it("50 concurrent wrong codes: exactly 5 are evaluated, 45 refused; then the right code is refused too", async () => {
    const { phone, code } = await sentCode();

    const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => guess(phone, wrongCode(code, i))));
    expect(tally(outcomes)).toEqual({ "400 invalid_code": MAX_ATTEMPTS, "429 too_many_attempts": 50 - MAX_ATTEMPTS });

    const res = await verify(phone, code);
    await expectProblem(res, 429, "too_many_attempts");
    expect(res.headers.get("Retry-After")).toMatch(/^[1-9]\d*$/);
    expect(await usersWithPhone(phone)).toBe(0);
  });

  it("4 wrong codes, then the right one signs in", async () => {
    const { phone, code } = await sentCode();
    for (let i = 0; i < MAX_ATTEMPTS - 1; i++) await expectProblem(await verify(phone, wrongCode(code, i)), 400, "invalid_code");
    expect((await verify(phone, code)).status).toBe(200);
    expect(await usersWithPhone(phone)).toBe(1);
  });

  it("a code is single use", async () => {
    const { phone, code } = await sentCode();
    expect((await verify(phone, code)).status).toBe(200);
    await expectProblem(await verify(phone, code), 400, "invalid_code");
  });

  it("a code is refused 120 s after it was sent, and accepted just before", async () => {
    const { deps } = testDeps();
    const sentAt = Date.now();

    const late = uniquePhone();
    await sendPhoneOtp(deps, late, NO_META, sentAt);
    await expect(
      verifyPhoneOtp(deps, { phone: late, otp: lastSmsCode(late), device, profile: noProfile }, NO_META, sentAt + OTP_TTL_MS),
    ).rejects.toMatchObject({ code: "invalid_code" });
    expect(await usersWithPhone(late)).toBe(0);

    const inTime = uniquePhone();
    await sendPhoneOtp(deps, inTime, NO_META, sentAt);
    const signedIn = await verifyPhoneOtp(
      deps,
      { phone: inTime, otp: lastSmsCode(inTime), device, profile: noProfile },
      NO_META,
      sentAt + OTP_TTL_MS - 1_000,
    );
    expect(signedIn).toMatchObject({ created: true, user: { phone: inTime, is_phone_verified: true } });
  });

  it("a code for one number does not work for another", async () => {
    const { code } = await sentCode();
    const { phone: other, code: otherCode } = await sentCode();
    if (code === otherCode) return; // 1 in a million: nothing to tell apart
    await expectProblem(await verify(other, code), 400, "invalid_code");
    expect(await usersWithPhone(other)).toBe(0);
  });
});
