// Invariant: emailed sign-in codes obey the limits of every emailed code, exactly under a burst: one
// send per address per 60 s cooldown, at most 5 code emails per address per hour (sign-in codes,
// resets and sign-ups together) and 30 per client IP; a code check counts against the client's
// CODE_VERIFY_IP_LIMIT (100 per 15 minutes), shared with the other code routes. Each refusal is
// 429 rate_limited with Retry-After; a newer code replaces the older; a failed delivery gives back
// the cooldown and the count it took.
import { describe, expect, it } from "vitest";
import { DeliveryError } from "../../src/delivery/errors";
import { sendEmailSignInCode, verifyEmailSignInCode } from "../../src/domain/email-code";
import { requestPasswordReset } from "../../src/domain/password-reset";
import {
  expectOneThrough,
  expectProblem,
  expectRateLimited,
  lastCode,
  messagesTo,
  NO_META,
  post,
  sendEmailCode,
  signedInUser,
  tally,
  outcome,
  testDeps,
  uniqueEmail,
  uniqueIp,
  uniquePhone,
  verifyEmailCode,
} from "../helpers";

const MINUTE = 60_000;
const device = { deviceId: "d", deviceName: null };

/** "sent", or the refusal's code. */
const sent = (p: Promise<unknown>) =>
  p.then(
    () => "sent",
    (e: { code?: string }) => e.code,
  );

describe("email sign-in code limits", () => {
  it("a burst of 10 sends to one address: exactly one goes through, the rest wait out the cooldown", async () => {
    const { email } = await signedInUser();
    const answers = await Promise.all(Array.from({ length: 10 }, () => post("/auth/email/send-code", { email })));
    await expectOneThrough(answers, 202, 60);
  });

  it("after the cooldown a new code is sent, and it replaces the older one", async () => {
    const { deps, settle } = testDeps();
    const { email } = await signedInUser();
    const start = Date.now() + 2 * 3600_000;
    await sendEmailSignInCode(deps, email, NO_META, start);
    await settle();
    const first = lastCode(email);
    expect(await sent(sendEmailSignInCode(deps, email, NO_META, start + 30_000))).toBe("rate_limited");
    await sendEmailSignInCode(deps, email, NO_META, start + 61_000);
    await settle();
    const second = lastCode(email);
    if (first !== second) {
      await expect(verifyEmailSignInCode(deps, { email, code: first, device }, NO_META, start + 62_000)).rejects.toMatchObject({
        code: "invalid_code",
      });
    }
    expect(await verifyEmailSignInCode(deps, { email, code: second, device }, NO_META, start + 63_000)).toMatchObject({ kind: "session" });
  });

  it("at most 5 code emails per address per hour, sign-in codes and resets together", async () => {
    const { deps, settle } = testDeps();
    const { email } = await signedInUser();
    const start = Date.now() + 2 * 3600_000;
    const before = messagesTo(email).length;
    const outcomes = [
      await sent(sendEmailSignInCode(deps, email, NO_META, start)),
      await sent(requestPasswordReset(deps, email, NO_META, start + 2 * MINUTE)),
      await sent(sendEmailSignInCode(deps, email, NO_META, start + 4 * MINUTE)),
      await sent(sendEmailSignInCode(deps, email, NO_META, start + 6 * MINUTE)),
      await sent(sendEmailSignInCode(deps, email, NO_META, start + 8 * MINUTE)),
      await sent(sendEmailSignInCode(deps, email, NO_META, start + 10 * MINUTE)),
      await sent(requestPasswordReset(deps, email, NO_META, start + 12 * MINUTE)),
    ];
    await settle();
    expect(outcomes).toEqual(["sent", "sent", "sent", "sent", "sent", "rate_limited", "rate_limited"]);
    expect(messagesTo(email)).toHaveLength(before + 5);
    // A new hour, a new budget.
    expect(await sent(sendEmailSignInCode(deps, email, NO_META, start + 61 * MINUTE))).toBe("sent");
    await settle();
    expect(messagesTo(email)).toHaveLength(before + 6);
  });

  it("at most 30 code emails per client IP per hour, exactly under a burst", async () => {
    const ip = uniqueIp();
    const answers = await Promise.all(
      Array.from({ length: 35 }, () => post("/auth/email/send-code", { email: uniqueEmail("ip-burst") }, { "CF-Connecting-IP": ip })),
    );
    expect(answers.filter((r) => r.status === 202)).toHaveLength(30);
    const refused = answers.filter((r) => r.status !== 202);
    expect(refused).toHaveLength(5);
    for (const res of refused) await expectRateLimited(res);
  });

  it("code checks count against the client's limit, shared with the other code routes", async () => {
    const ip = uniqueIp();
    const headers = { "CF-Connecting-IP": ip };
    const answers = await Promise.all(
      Array.from({ length: 105 }, () => verifyEmailCode(uniqueEmail("guess"), "123456", {}, headers)),
    );
    expect(tally(await Promise.all(answers.map(outcome)))).toEqual({ "400 invalid_code": 100, "429 rate_limited": 5 });
    await expectRateLimited(await post("/auth/phone/verify-otp", { phone: uniquePhone(), otp: "123456" }, headers));
    // Another client is not affected.
    const { email } = await signedInUser();
    const code = await sendEmailCode(email);
    expect((await verifyEmailCode(email, code, {}, { "CF-Connecting-IP": uniqueIp() })).status).toBe(200);
  });

  it("a delivery that fails after the answer leaves no code and gives back the cooldown", async () => {
    const { deps, settle } = testDeps();
    const { email } = await signedInUser();
    const before = messagesTo(email).length;
    const failing = { ...deps, mailer: { send: () => Promise.reject(new DeliveryError("test", "HTTP 500")) } };
    const now = Date.now();
    await sendEmailSignInCode(failing, email, NO_META, now);
    await settle();
    expect(messagesTo(email)).toHaveLength(before);
    await expectProblem(await verifyEmailCode(email, "000000"), 400, "invalid_code");
    expect(await sendEmailCode(email)).toMatch(/^\d{6}$/);
  });
});
