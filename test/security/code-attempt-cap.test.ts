// Invariant: a verification code gets at most 5 guesses in all, however many arrive at once. The
// 5th miss burns the code; every later guess, the right code included, answers 429 too_many_attempts.
import { describe, expect, it } from "vitest";
import { expectProblem, lastCode, outcome, post, registerUser, tally, userRows, wrongCode, type Outcome } from "../helpers";

const MAX_ATTEMPTS = 5;

async function guess(email: string, code: string): Promise<Outcome> {
  return outcome(await post("/auth/verify-email", { email, code }));
}

describe("verification code attempt cap", () => {
  it("50 concurrent wrong guesses: exactly 5 are evaluated, 45 are refused; then the right code is refused too", async () => {
    const { email } = await registerUser();
    const code = lastCode(email);

    const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => guess(email, wrongCode(code, i))));
    expect(tally(outcomes)).toEqual({ "400 invalid_code": MAX_ATTEMPTS, "429 too_many_attempts": 50 - MAX_ATTEMPTS });

    await expectProblem(await post("/auth/verify-email", { email, code }), 429, "too_many_attempts");
    expect(await userRows(email)).toBe(0);
  });

  it("the right code sent into a burst after 5 wrong guesses were answered is refused", async () => {
    const { email } = await registerUser();
    const code = lastCode(email);

    // Every answered wrong guess was either a counted miss or a refusal that implies 5 misses, so once
    // 5 have been answered the code is burned, while the rest of the burst is still in flight.
    let answered = 0;
    let fiveAnswered!: () => void;
    const afterFive = new Promise<void>((resolve) => (fiveAnswered = resolve));
    const wrong = Array.from({ length: 50 }, (_, i) =>
      guess(email, wrongCode(code, i)).then((o) => {
        if (++answered === MAX_ATTEMPTS) fiveAnswered();
        return o;
      }),
    );
    await afterFive;
    const right = guess(email, code);
    const outcomes = await Promise.all([...wrong, right]);

    expect(await right).toEqual({ status: 429, code: "too_many_attempts" });
    // Evaluated guesses are the ones answered invalid_code (or 200): never more than 5.
    expect(tally(outcomes)).toEqual({ "400 invalid_code": MAX_ATTEMPTS, "429 too_many_attempts": 51 - MAX_ATTEMPTS });
    expect(await userRows(email)).toBe(0);
  });

  it("the refusal of a burned code carries Retry-After, as every 429 must", async () => {
    const { email } = await registerUser();
    const code = lastCode(email);
    for (let i = 0; i < MAX_ATTEMPTS; i++) await post("/auth/verify-email", { email, code: wrongCode(code, i) });
    const res = await post("/auth/verify-email", { email, code });
    await expectProblem(res, 429, "too_many_attempts");
    const retryAfter = res.headers.get("Retry-After");
    expect(retryAfter).not.toBeNull();
    expect(retryAfter).toMatch(/^[1-9]\d*$/);
  });

  it("4 wrong guesses then the right code succeeds", async () => {
    const { email } = await registerUser();
    const code = lastCode(email);
    for (let i = 0; i < MAX_ATTEMPTS - 1; i++) {
      await expectProblem(await post("/auth/verify-email", { email, code: wrongCode(code, i) }), 400, "invalid_code");
    }
    const res = await post("/auth/verify-email", { email, code });
    expect(res.status).toBe(200);
    expect((await res.json<any>()).user).toMatchObject({ email, is_email_verified: true });
    expect(await userRows(email)).toBe(1);
  });

  it("the 5th wrong guess burns the code", async () => {
    const { email } = await registerUser();
    const code = lastCode(email);
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      await expectProblem(await post("/auth/verify-email", { email, code: wrongCode(code, i) }), 400, "invalid_code");
    }
    await expectProblem(await post("/auth/verify-email", { email, code }), 429, "too_many_attempts");
    expect(await userRows(email)).toBe(0);
  });
});
