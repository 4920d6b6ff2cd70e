// Invariant: SMS codes cannot be used to flood a number or run up the SMS bill: one send per number
// per 60 s cooldown (exact under a concurrent burst), at most 5 sends per number per hour and a cap
// per client IP, each refused with 429 rate_limited and Retry-After. A send the provider fails is
// undone: 502 delivery_failed, no usable code left, no cooldown started, no budget spent.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { DeliveryError } from "../../src/delivery/errors";
import type { SmsMessage } from "../../src/delivery/sms";
import { sendPhoneOtp } from "../../src/domain/phone-otp";
import {
  expectOneThrough,
  expectProblem,
  expectRateLimited,
  lastSmsCode,
  messagesTo,
  NO_META,
  post,
  testDeps,
  uniqueIp,
  uniquePhone,
} from "../helpers";

const COOLDOWN_MS = 60_000;
const SENDS_PER_PHONE = 5;

function send(phone: string, headers: Record<string, string> = {}): Promise<Response> {
  return post("/auth/phone/send-otp", { phone }, headers);
}

describe("phone OTP send limits", () => {
  it("a second send inside the 60 s cooldown is refused with Retry-After and leaves the first code working", async () => {
    const phone = uniquePhone();
    expect((await send(phone)).status).toBe(200);
    const code = lastSmsCode(phone);
    await expectRateLimited(await send(phone), 60);
    expect(messagesTo(phone)).toHaveLength(1);
    expect((await post("/auth/phone/verify-otp", { phone, otp: code, device_id: "d" })).status).toBe(200);
  });

  it("a burst of 10 concurrent sends to a fresh number gets exactly one through", async () => {
    const phone = uniquePhone();
    const answers = await Promise.all(Array.from({ length: 10 }, () => send(phone)));
    await expectOneThrough(answers, 200);
    expect(messagesTo(phone)).toHaveLength(1);
  });

  it("after the cooldown a new code replaces the old one", async () => {
    const { deps } = testDeps();
    const phone = uniquePhone();
    const t0 = Date.now();
    await sendPhoneOtp(deps, phone, NO_META, t0 - COOLDOWN_MS - 1_000);
    const oldCode = lastSmsCode(phone);
    await sendPhoneOtp(deps, phone, NO_META, t0);
    const newCode = lastSmsCode(phone);
    expect(messagesTo(phone)).toHaveLength(2);
    if (newCode !== oldCode) {
      await expectProblem(await post("/auth/phone/verify-otp", { phone, otp: oldCode, device_id: "d" }), 400, "invalid_code");
    }
    expect((await post("/auth/phone/verify-otp", { phone, otp: newCode, device_id: "d" })).status).toBe(200);
  });

  it("at most 5 sends per number per hour, even when each waits out the cooldown", async () => {
    const { deps } = testDeps();
    const phone = uniquePhone();
    const t0 = Date.now();
    for (let i = 0; i < SENDS_PER_PHONE; i++) {
      await expect(sendPhoneOtp(deps, phone, NO_META, t0 + i * (COOLDOWN_MS + 1_000))).resolves.toMatchObject({ phone });
    }
    await expect(sendPhoneOtp(deps, phone, NO_META, t0 + SENDS_PER_PHONE * (COOLDOWN_MS + 1_000))).rejects.toMatchObject({
      code: "rate_limited",
    });
    expect(messagesTo(phone)).toHaveLength(SENDS_PER_PHONE);
    // The hour is counted from the first send.
    await expect(sendPhoneOtp(deps, phone, NO_META, t0 + 3_600_000)).resolves.toMatchObject({ phone });
  });

  it("caps sends per client IP, across different numbers", async () => {
    const { count } = loadConfig(env).limits.otpSendsIp;
    const ip = uniqueIp();
    for (let i = 0; i < count; i++) expect((await send(uniquePhone(), { "CF-Connecting-IP": ip })).status).toBe(200);

    const refusedPhone = uniquePhone();
    await expectRateLimited(await send(refusedPhone, { "CF-Connecting-IP": ip }));
    expect(messagesTo(refusedPhone)).toHaveLength(0);

    // The cap is per address: another client still gets through.
    expect((await send(uniquePhone(), { "CF-Connecting-IP": uniqueIp() })).status).toBe(200);
  });

  it("a provider failure is 502 delivery_failed, leaves no usable code and starts no cooldown", async () => {
    const failing = testDeps().deps;
    const attempted: SmsMessage[] = [];
    failing.sms = {
      async send(message) {
        attempted.push(message);
        throw new DeliveryError("test", "HTTP 500");
      },
    };
    const phone = uniquePhone();

    await expect(sendPhoneOtp(failing, phone, NO_META, Date.now())).rejects.toMatchObject({ code: "delivery_failed", status: 502 });
    expect(attempted).toHaveLength(1);
    const failedCode = /\b(\d{6})\b/.exec(attempted[0]!.text)![1]!;
    await expectProblem(await post("/auth/phone/verify-otp", { phone, otp: failedCode, device_id: "d" }), 400, "invalid_code");

    // No cooldown: a send with a working provider goes through at once, and its code works.
    expect((await send(phone)).status).toBe(200);
    const code = lastSmsCode(phone);
    if (code !== failedCode) {
      await expectProblem(await post("/auth/phone/verify-otp", { phone, otp: failedCode, device_id: "d" }), 400, "invalid_code");
    }
    expect((await post("/auth/phone/verify-otp", { phone, otp: code, device_id: "d" })).status).toBe(200);
  });

  it("failed sends do not use up the number's hourly budget", async () => {
    const { deps } = testDeps();
    const failing = { ...deps, sms: { send: () => Promise.reject(new DeliveryError("test", "timeout")) } };
    const phone = uniquePhone();
    const t0 = Date.now();
    for (let i = 0; i <= SENDS_PER_PHONE; i++) {
      await expect(sendPhoneOtp(failing, phone, NO_META, t0 + i)).rejects.toMatchObject({ code: "delivery_failed" });
    }
    await expect(sendPhoneOtp(deps, phone, NO_META, t0 + 10)).resolves.toMatchObject({ phone });
    expect(messagesTo(phone)).toHaveLength(1);
  });
});
