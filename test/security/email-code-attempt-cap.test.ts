// Invariant: an emailed sign-in code gets at most 5 guesses in all, however many arrive at once: the
// 5th miss burns it and every later guess, the right code included, answers 429 too_many_attempts
// with Retry-After. A right code is single use, also under a burst: exactly one request signs in.
import { describe, expect, it } from "vitest";
import { expectProblem, outcome, sendEmailCode, signedInUser, tally, verifyEmailCode, wrongCode } from "../helpers";

const MAX_ATTEMPTS = 5;

async function sessionsOpened(responses: Response[]): Promise<Record<string, number>> {
  return tally(await Promise.all(responses.map(outcome)));
}

describe("email sign-in code attempt cap", () => {
  it("50 concurrent wrong codes: exactly 5 are evaluated, 45 refused; then the right code is refused too", async () => {
    const { email } = await signedInUser();
    const code = await sendEmailCode(email);
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => verifyEmailCode(email, wrongCode(code, i))));
    expect(await sessionsOpened(answers)).toEqual({ "400 invalid_code": MAX_ATTEMPTS, "429 too_many_attempts": 50 - MAX_ATTEMPTS });

    const right = await verifyEmailCode(email, code);
    await expectProblem(right, 429, "too_many_attempts");
    expect(right.headers.get("Retry-After")).toMatch(/^[1-9]\d*$/);
  });

  it("4 wrong codes, then the right one signs in", async () => {
    const { email } = await signedInUser();
    const code = await sendEmailCode(email);
    for (let i = 0; i < MAX_ATTEMPTS - 1; i++) await expectProblem(await verifyEmailCode(email, wrongCode(code, i)), 400, "invalid_code");
    expect((await verifyEmailCode(email, code)).status).toBe(200);
  });

  it("a burst of 20 requests with the right code opens exactly one session; the code is then spent", async () => {
    const { email } = await signedInUser();
    const code = await sendEmailCode(email);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => verifyEmailCode(email, code, { device_id: `burst-${i}` })));
    expect(await sessionsOpened(answers)).toEqual({ "200 ok": 1, "400 invalid_code": 19 });
    await expectProblem(await verifyEmailCode(email, code), 400, "invalid_code");
  });

  it("a code for one address does not work for another", async () => {
    const { email } = await signedInUser();
    const { email: other } = await signedInUser();
    const code = await sendEmailCode(email);
    const otherCode = await sendEmailCode(other);
    if (code === otherCode) return; // 1 in a million: nothing to tell apart
    await expectProblem(await verifyEmailCode(other, code), 400, "invalid_code");
  });
});
