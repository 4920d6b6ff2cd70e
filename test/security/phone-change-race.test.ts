// Invariant: a number is proved by at most one account. Two accounts confirming codes for the same
// number at once, or a change confirmed while the number signs in by SMS, end with exactly one
// account holding it, proved: the unique index on users.phone decides, the losing change answers
// 409 phone_taken and writes nothing.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  confirmPhoneChange,
  lastSmsCode,
  outcome,
  outcomeKey,
  post,
  requestPhoneChange,
  sendOtp,
  signedInUser,
  uniquePhone,
  type Json,
} from "../helpers";

const ROUNDS = 10;

async function account(tag: string) {
  const user = await signedInUser({}, tag);
  return { id: user.tokens.user.id as string, token: user.tokens.access_token as string };
}

async function holders(phone: string) {
  return (await env.DB.prepare("SELECT id, is_phone_verified AS verified FROM users WHERE phone = ?").bind(phone).all<{ id: string; verified: number }>())
    .results;
}

describe("two accounts racing to prove one number", () => {
  it(`exactly one wins, the other answers 409 phone_taken, in ${ROUNDS} rounds`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const phone = uniquePhone();
      const [a, b] = await Promise.all([account(`pa-${round}`), account(`pb-${round}`)]);
      expect((await requestPhoneChange(a!.token, phone)).status).toBe(200);
      const codeA = lastSmsCode(phone);
      expect((await requestPhoneChange(b!.token, phone)).status).toBe(200);
      const codeB = lastSmsCode(phone);
      const answers = await Promise.all([confirmPhoneChange(a!.token, codeA), confirmPhoneChange(b!.token, codeB)].map((p) => p.then(outcome)));
      expect(answers.map(outcomeKey).sort()).toEqual(["200 ok", "409 phone_taken"]);
      const winner = answers[0]!.status === 200 ? a! : b!;
      expect(await holders(phone)).toEqual([{ id: winner.id, verified: 1 }]);
    }
  });
});

describe("a change racing the number's own phone sign-in", () => {
  it(`one account holds the number, proved; a sign-in that loses lands on the winner, in ${ROUNDS} rounds`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const phone = uniquePhone();
      const user = await account(`ps-${round}`);
      expect((await requestPhoneChange(user.token, phone)).status).toBe(200);
      const changeCode = lastSmsCode(phone);
      await sendOtp(phone);
      const signInCode = lastSmsCode(phone);
      const [change, signIn] = await Promise.all([
        confirmPhoneChange(user.token, changeCode),
        post("/auth/phone/verify-otp", { phone, otp: signInCode, device_id: "racer" }),
      ]);
      const signedIn = await signIn.json<Json>();
      expect(signIn.status).toBe(200);
      const rows = await holders(phone);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.verified).toBe(1);
      if (change.status === 200) {
        expect(rows[0]!.id).toBe(user.id);
        // Had the sign-in created an account first, the change would have failed: it signed into the user.
        expect(signedIn.user.id).toBe(user.id);
      } else {
        expect(outcomeKey(await outcome(change))).toBe("409 phone_taken");
        expect(rows[0]!.id).toBe(signedIn.user.id);
        expect(signedIn.user.id).not.toBe(user.id);
      }
    }
  });
});
