// Invariant: POST /auth/reauthenticate is no way around the guessing limits, however many requests
// arrive at once. Passwords go through the account's login throttle (shared with /auth/login: 5
// wrong, then a growing delay); TOTP codes through the user's second-step budget (shared with
// /auth/mfa/verify: 10 wrong per 15 minutes); both answer 429 too_many_attempts with Retry-After,
// the right secret included. An accepted TOTP code is spent: it works once, here or at sign-in.
import { describe, expect, it } from "vitest";
import { reauthenticate as reauthenticateAt } from "../../src/domain/reauthenticate";
import {
  authOf,
  enrolTotp,
  expectProblem,
  loginAt,
  NO_META,
  mfaTokenOf,
  outcome,
  PASSWORD,
  post,
  reauthenticate,
  signedInUser,
  tally,
  testDeps,
  totpCode,
  verifyMfa,
} from "../helpers";

const BURST = 30;

async function burst(token: string, body: () => object) {
  const answers = await Promise.all(Array.from({ length: BURST }, () => reauthenticate(token, body())));
  for (const res of answers.filter((r) => r.status === 429)) expect(Number(res.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
  return tally(await Promise.all(answers.map(outcome)));
}

/** A code that is none of the steps around now. */
function wrongCode(secret: string): string {
  const near = new Set([-1, 0, 1, 2].map((s) => totpCode(secret, s)));
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, "0");
    if (!near.has(code)) return code;
  }
}

describe("reauthentication attempt caps", () => {
  it(`${BURST} parallel wrong passwords: exactly 5 checked, the rest 429; the right one then waits too, at login as well`, async () => {
    const { tokens, email } = await signedInUser({}, "cap-pwd");
    const start = Date.now();
    expect(await burst(tokens.access_token, () => ({ password: "not the password" }))).toEqual({
      "401 invalid_credentials": 5,
      "429 too_many_attempts": BURST - 5,
    });
    // Asked at the burst's start, which the delay set by its 5th failure outlasts (as in
    // login-throttle.test.ts), so a slow machine cannot let the 1 s run out first.
    const { deps, settle } = testDeps();
    const auth = { userId: tokens.user.id, sessionId: authOf(tokens.access_token).sid };
    const right = reauthenticateAt(deps, auth, { method: "password", password: PASSWORD }, NO_META, start);
    await expect(right).rejects.toMatchObject({ code: "too_many_attempts", status: 429 });
    await settle();
    expect(await loginAt(email, PASSWORD, start)).toMatchObject({ code: "too_many_attempts" });
  });

  it(`${BURST} parallel wrong TOTP codes: exactly 10 checked, the rest 429; the right code and the sign-in's second step then wait too`, async () => {
    const { tokens, email } = await signedInUser({}, "cap-totp");
    const { secret } = await enrolTotp(tokens.access_token);
    const wrong = wrongCode(secret);
    expect(await burst(tokens.access_token, () => ({ totp: wrong }))).toEqual({
      "400 invalid_code": 10,
      "429 too_many_attempts": BURST - 10,
    });
    await expectProblem(await reauthenticate(tokens.access_token, { totp: totpCode(secret, 1) }), 429, "too_many_attempts");
    const mfaToken = await mfaTokenOf(await post("/auth/login", { email, password: PASSWORD, device_id: "cap-totp" }));
    await expectProblem(await verifyMfa(mfaToken, "totp", totpCode(secret, 1)), 429, "too_many_attempts");
  });

  it(`${BURST} parallel reauthentications with one right code: exactly one succeeds`, async () => {
    const { tokens } = await signedInUser({}, "cap-once");
    const { secret } = await enrolTotp(tokens.access_token);
    const code = totpCode(secret, 1);
    const counts = await burst(tokens.access_token, () => ({ totp: code }));
    expect(counts["200 ok"]).toBe(1);
    expect((counts["400 invalid_code"] ?? 0) + (counts["429 too_many_attempts"] ?? 0)).toBe(BURST - 1);
  });

  it("a code that reauthenticated cannot finish a sign-in, and one that finished a sign-in cannot reauthenticate", async () => {
    const { tokens, email } = await signedInUser({}, "cap-replay");
    const { secret } = await enrolTotp(tokens.access_token);
    const signIn = async () => mfaTokenOf(await post("/auth/login", { email, password: PASSWORD, device_id: "cap-replay" }));

    const first = totpCode(secret, 1);
    expect((await reauthenticate(tokens.access_token, { totp: first })).status).toBe(200);
    await expectProblem(await verifyMfa(await signIn(), "totp", first), 400, "invalid_code");
    await expectProblem(await reauthenticate(tokens.access_token, { totp: first }), 400, "invalid_code");
  });
});
