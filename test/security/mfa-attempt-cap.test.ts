// Invariant: one mfa_token takes at most 5 wrong codes, however many arrive at once; then it is
// burned and every later attempt on it, the right code included, answers 429 too_many_attempts with
// Retry-After. A user takes at most 10 wrong codes in 15 minutes over all their mfa_tokens.
import { describe, expect, it } from "vitest";
import { enrolTotp, expectProblem, mfaTokenOf, post, signedInUser, totpCode, verifyMfa } from "../helpers";

async function enrolled() {
  const user = await signedInUser({}, "cap-device");
  const factor = await enrolTotp(user.tokens.access_token as string);
  const challenge = async () => mfaTokenOf(await post("/auth/login", { email: user.email, password: user.password, device_id: "cap-device" }));
  return { ...factor, challenge };
}

function wrongCode(secret: string): string {
  const right = new Set([-1, 0, 1, 2].map((s) => totpCode(secret, s)));
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, "0");
    if (!right.has(code)) return code;
  }
}

describe("attempts on the second step", () => {
  it("50 parallel wrong codes on one mfa_token: exactly 5 counted, then burned, the right code refused", async () => {
    const { secret, challenge } = await enrolled();
    const mfaToken = await challenge();
    const wrong = wrongCode(secret);
    const answers = await Promise.all(Array.from({ length: 50 }, () => verifyMfa(mfaToken, "totp", wrong)));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 400)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(45);
    const limited = answers.find((r) => r.status === 429)!;
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);

    const right = await verifyMfa(mfaToken, "totp", totpCode(secret, 1));
    await expectProblem(right, 429, "too_many_attempts");
    expect(Number(right.headers.get("Retry-After"))).toBeGreaterThan(0);
  });

  it("10 wrong codes over several mfa_tokens lock the user's second step, right code included", async () => {
    const { secret, challenge, recoveryCodes } = await enrolled();
    const wrong = wrongCode(secret);
    const [a, b] = [await challenge(), await challenge()];
    const answers = await Promise.all([
      ...Array.from({ length: 5 }, () => verifyMfa(a, "totp", wrong)),
      ...Array.from({ length: 5 }, () => verifyMfa(b, "recovery_code", "AAAA-AAAA-AAAA-AAAA")),
    ]);
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(400));
    const fresh = await challenge();
    await expectProblem(await verifyMfa(fresh, "recovery_code", recoveryCodes[0]!), 429, "too_many_attempts");
    await expectProblem(await verifyMfa(fresh, "totp", totpCode(secret, 1)), 429, "too_many_attempts");
  });

  it("a right code does not use up the user's budget", async () => {
    const { secret, challenge, recoveryCodes } = await enrolled();
    for (const code of recoveryCodes.slice(0, 9)) expect((await verifyMfa(await challenge(), "recovery_code", code)).status).toBe(200);
    const wrong = wrongCode(secret);
    const token = await challenge();
    for (let i = 0; i < 2; i++) await expectProblem(await verifyMfa(token, "totp", wrong), 400, "invalid_code");
    expect((await verifyMfa(token, "recovery_code", recoveryCodes[9]!)).status).toBe(200);
  });
});
