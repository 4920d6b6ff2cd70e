// Invariant: a TOTP code is accepted once (RFC 6238 §5.2): the step it belongs to is spent in the
// user's object with the challenge it finished, so the same code is refused on a later sign-in, and of
// a burst of sign-ins presenting it at once exactly one gets a session.
import { describe, expect, it } from "vitest";
import { enrolTotp, expectProblem, mfaTokenOf, post, signedInUser, totpCode, verifyMfa } from "../helpers";

async function enrolled() {
  const user = await signedInUser({}, "replay-device");
  const factor = await enrolTotp(user.tokens.access_token as string);
  const challenge = async () => mfaTokenOf(await post("/auth/login", { email: user.email, password: user.password, device_id: "replay-device" }));
  return { ...factor, challenge };
}

describe("TOTP replay", () => {
  it("the same code twice: the second sign-in is refused", async () => {
    const { secret, challenge } = await enrolled();
    const code = totpCode(secret, 1);
    expect((await verifyMfa(await challenge(), "totp", code)).status).toBe(200);
    await expectProblem(await verifyMfa(await challenge(), "totp", code), 400, "invalid_code");
    // An earlier step than the one accepted is refused too.
    await expectProblem(await verifyMfa(await challenge(), "totp", totpCode(secret, 0)), 400, "invalid_code");
  });

  it("the code that confirmed the enrolment cannot finish a sign-in", async () => {
    const { confirmedWith, challenge } = await enrolled();
    await expectProblem(await verifyMfa(await challenge(), "totp", confirmedWith), 400, "invalid_code");
  });

  it("one code on ten mfa_tokens at once: exactly one session", async () => {
    const { secret, challenge } = await enrolled();
    const tokens: string[] = [];
    for (let i = 0; i < 10; i++) tokens.push(await challenge());
    const code = totpCode(secret, 1);
    const answers = await Promise.all(tokens.map((t) => verifyMfa(t, "totp", code)));
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([200, ...Array(9).fill(400)]);
  });
});
