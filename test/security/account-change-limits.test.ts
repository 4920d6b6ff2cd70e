// Invariant: the account-change codes spend the same budgets as every other code. An email-change
// code counts against the new address's send limit (shared with sign-up, sign-in and reset codes to
// it), an SMS code against the number's (shared with the phone sign-in), and each account waits the
// resend cooldown between two asks; the attempt cap is the code store's (tested in account-email).
import { afterEach, describe, expect, it } from "vitest";
import {
  expectRateLimited,
  messagesTo,
  moveClock,
  post,
  registerUser,
  requestEmailChange,
  requestPhoneChange,
  restoreClock,
  sendOtp,
  signedInUser,
  uniqueEmail,
  uniquePhone,
  waitForMessages,
} from "../helpers";

async function accounts(n: number, tag: string) {
  const users = await Promise.all(Array.from({ length: n }, (_, i) => signedInUser({}, `${tag}-${i}`)));
  return users.map((u) => u.tokens.access_token as string);
}

describe("resend cooldown per account", () => {
  afterEach(restoreClock);

  it("a second email change within the cooldown is 429, whatever the address; after it, allowed", async () => {
    const [token] = await accounts(1, "cool-mail");
    expect((await requestEmailChange(token!, uniqueEmail("c1"))).status).toBe(202);
    await expectRateLimited(await requestEmailChange(token!, uniqueEmail("c2")), 60);
    moveClock(61_000);
    expect((await requestEmailChange(token!, uniqueEmail("c3"))).status).toBe(202);
  });

  it("a second phone change within the cooldown is 429, whatever the number; a burst sends one code", async () => {
    const [token] = await accounts(1, "cool-sms");
    const phones = Array.from({ length: 8 }, () => uniquePhone());
    const answers = await Promise.all(phones.map((p) => requestPhoneChange(token!, p)));
    expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
    // Refused by the cooldown or, past five asks, by the account's hourly budget: 429 either way.
    for (const res of answers.filter((r) => r.status !== 200)) await expectRateLimited(res);
    expect(phones.flatMap((p) => messagesTo(p))).toHaveLength(1);
  });
});

describe("send limits shared with the other codes", () => {
  it("an address that got sign-up, sign-in and reset codes has only what is left of its budget (5 an hour)", async () => {
    const address = uniqueEmail("budget");
    await registerUser({ email: address });
    expect((await post("/auth/email/send-code", { email: address })).status).toBe(202);
    expect((await post("/auth/password-reset/request", { email: address })).status).toBe(202);
    const tokens = await accounts(3, "budget");
    expect((await requestEmailChange(tokens[0]!, address)).status).toBe(202);
    expect((await requestEmailChange(tokens[1]!, address)).status).toBe(202);
    await expectRateLimited(await requestEmailChange(tokens[2]!, address));
    await waitForMessages(address, 3);
    // The sign-up's resend is refused by the same budget now.
    await expectRateLimited(await post("/auth/resend-verification", { email: address }));
  });

  it("a number that got sign-in codes has only what is left of its budget (5 an hour), and the change spends it too", async () => {
    const phone = uniquePhone();
    await sendOtp(phone);
    const tokens = await accounts(5, "sms-budget");
    for (const token of tokens.slice(0, 4)) expect((await requestPhoneChange(token, phone)).status).toBe(200);
    await expectRateLimited(await requestPhoneChange(tokens[4]!, phone));
    expect(messagesTo(phone)).toHaveLength(5);
  });
});
