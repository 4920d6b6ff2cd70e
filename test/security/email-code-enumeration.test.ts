// Invariant: POST /auth/email/send-code answers the same status, body and headers for every address
// (an active account with a verified email, no account, a sign-up still pending, an account whose
// email is unverified, a deactivated account, a phone account's unproved address), applies the same
// cooldown to each, and mails a code only to the first. POST /auth/email/verify-code answers an
// unknown address, an address with no code and a wrong code alike: 400 invalid_code.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  answerOf,
  expectProblem,
  expectRateLimited,
  messagesTo,
  pause,
  phoneSignIn,
  post,
  registerUser,
  sendEmailCode,
  signedInUser,
  uniqueEmail,
  uniquePhone,
  verifyEmailCode,
  waitForMessages,
  wrongCode,
} from "../helpers";

const HEADERS = ["Content-Type", "Cache-Control", "Retry-After"];

function sendCode(email: string) {
  return post("/auth/email/send-code", { email });
}

/** Addresses that must get no code, each as the service would hold it. */
async function addressesWithoutCode(): Promise<Record<string, string>> {
  const unverified = await signedInUser();
  await env.DB.prepare("UPDATE users SET is_email_verified = 0 WHERE email = ?").bind(unverified.email).run();
  const deactivated = await signedInUser();
  await env.DB.prepare("UPDATE users SET is_active = 0 WHERE email = ?").bind(deactivated.email).run();
  const phoneUserEmail = uniqueEmail("phone-user");
  expect((await phoneSignIn(uniquePhone(), { email: phoneUserEmail })).status).toBe(200);
  return {
    unknown: uniqueEmail("nobody"),
    pending: (await registerUser()).email,
    unverified: unverified.email,
    deactivated: deactivated.email,
    phoneUserEmail,
  };
}

describe("email sign-in code does not enumerate accounts", () => {
  it("answers every kind of address exactly as an account's, and mails only the account", async () => {
    const { email } = await signedInUser();
    const others = await addressesWithoutCode();
    const before = Object.fromEntries(Object.values(others).map((a) => [a, messagesTo(a).length]));
    const expected = await answerOf(await sendCode(email), HEADERS);
    expect(expected.status).toBe(202);
    for (const address of Object.values(others)) expect(await answerOf(await sendCode(address), HEADERS)).toEqual(expected);
    await waitForMessages(email, 2);
    await pause(200);
    for (const address of Object.values(others)) expect(messagesTo(address)).toHaveLength(before[address]!);
  });

  it("applies the same cooldown to every kind of address", async () => {
    const { email } = await signedInUser();
    for (const address of [email, ...Object.values(await addressesWithoutCode())]) {
      expect((await sendCode(address)).status).toBe(202);
      await expectRateLimited(await sendCode(address), 60);
    }
  });

  it("verify-code: an unknown address, an address with no code and a wrong code all answer 400 invalid_code", async () => {
    const { email } = await signedInUser();
    const noCode = (await signedInUser()).email;
    const code = await sendEmailCode(email);
    const answers = [
      await verifyEmailCode(uniqueEmail("nobody"), code),
      await verifyEmailCode(noCode, code),
      await verifyEmailCode(email, wrongCode(code, 0)),
    ];
    const bodies = [];
    for (const res of answers) bodies.push(await expectProblem(res, 400, "invalid_code"));
    expect(new Set(bodies.map((b) => b.detail)).size).toBe(1);
  });
});
