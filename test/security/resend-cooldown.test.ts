// Invariant: a verification email can be sent again at most once per 60 s cooldown per address, even
// under a concurrent burst; refusals are 429 rate_limited with Retry-After; the answer does not tell
// whether a registration is pending; and a resent code replaces the previous one.
import { describe, expect, it } from "vitest";
import { register, resendVerification } from "../../src/domain/registration";
import {
  call,
  expectOneThrough,
  expectProblem,
  expectRateLimited,
  lastCode,
  lastLinkToken,
  messagesTo,
  NO_META,
  PASSWORD,
  post,
  registerUser,
  testDeps,
  uniqueEmail,
  waitForMessages,
} from "../helpers";

const COOLDOWN_MS = 60_000;

function resend(email: string): Promise<Response> {
  return post("/auth/resend-verification", { email });
}

/** A pending registration whose cooldown ran out: registered through the domain 61 s in the past. */
async function pendingOutsideCooldown(): Promise<string> {
  const { deps, settle } = testDeps();
  const email = uniqueEmail();
  await register(
    deps,
    { email, password: PASSWORD, fullName: "Test User", username: null, phone: null, role: "CUSTOMER" },
    NO_META,
    Date.now() - COOLDOWN_MS - 1_000,
  );
  await settle();
  expect(messagesTo(email)).toHaveLength(1);
  return email;
}

describe("resend cooldown", () => {
  it("a resend inside 60 s of registering is refused with Retry-After, and sends nothing", async () => {
    const { email } = await registerUser();
    const code = lastCode(email);
    await expectRateLimited(await resend(email), 60);
    expect(messagesTo(email)).toHaveLength(1);
    // The refused resend did not touch the pending code.
    expect((await post("/auth/verify-email", { email, code })).status).toBe(200);
  });

  it("answers an unknown email exactly as a pending one", async () => {
    const unknown = uniqueEmail("nobody");
    const pending = await pendingOutsideCooldown();

    const forUnknown = await resend(unknown);
    const forPending = await resend(pending);
    expect(forUnknown.status).toBe(202);
    expect(forPending.status).toBe(202);
    expect(forUnknown.headers.get("Content-Type")).toBe(forPending.headers.get("Content-Type"));
    expect(await forUnknown.json()).toEqual(await forPending.json());

    expect(await waitForMessages(pending, 2)).toHaveLength(2);
    expect(messagesTo(unknown)).toHaveLength(0);
  });

  it("a burst of 10 resends for a fresh email gets exactly one through", async () => {
    const email = uniqueEmail();
    const answers = await Promise.all(Array.from({ length: 10 }, () => resend(email)));
    await expectOneThrough(answers, 202, 60);
  });

  it("a burst of 10 resends for a pending registration sends exactly one email", async () => {
    const email = await pendingOutsideCooldown();
    const answers = await Promise.all(Array.from({ length: 10 }, () => resend(email)));
    await expectOneThrough(answers, 202, 60);
    expect(messagesTo(email)).toHaveLength(2);
  });

  it("inside the cooldown the domain refuses with the time left", async () => {
    const { deps } = testDeps();
    const registered = Date.now();
    const { email } = await registerUser();
    await expect(resendVerification(deps, email, NO_META, registered + 30_000)).rejects.toMatchObject({ code: "rate_limited" });
    expect(messagesTo(email)).toHaveLength(1);
  });

  it("after the cooldown a new code is sent and the old code and link stop working", async () => {
    const { deps, settle } = testDeps();
    const { email } = await registerUser();
    const oldCode = lastCode(email);
    const oldLink = lastLinkToken(email);

    let newCode = oldCode;
    // A fresh code equal to the old one (1 in a million) would make the check below meaningless.
    for (let round = 1; newCode === oldCode; round++) {
      await resendVerification(deps, email, NO_META, Date.now() + round * (COOLDOWN_MS + 1_000));
      await settle();
      expect(messagesTo(email)).toHaveLength(1 + round);
      newCode = lastCode(email);
    }
    const newLink = lastLinkToken(email);
    expect(newLink).not.toBe(oldLink);

    await expectProblem(await post("/auth/verify-email", { email, code: oldCode }), 400, "invalid_code");
    await expectProblem(await call(`/auth/verify?token=${encodeURIComponent(oldLink)}`), 400, "invalid_token");
    expect((await post("/auth/verify-email", { email, code: newCode })).status).toBe(200);
  });
});
