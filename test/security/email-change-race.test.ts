// Invariant: an address is held by at most one account. An email change confirmed while the same
// address is being registered (its pending sign-up verified) or taken by another account's change
// ends with exactly one account holding it: the unique index on users.email decides, the losing
// email change answers 409 email_taken and writes nothing, the losing sign-up creates no user.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  accountsWithEmail,
  confirmEmailChange,
  emailChangeCode,
  outcome,
  outcomeKey,
  post,
  registerUser,
  requestEmailChange,
  signedInUser,
  signUpCode,
  uniqueEmail,
} from "../helpers";

const ROUNDS = 12;

async function changer(tag: string) {
  const user = await signedInUser({}, tag);
  return { id: user.tokens.user.id as string, email: user.email, token: user.tokens.access_token as string };
}

async function emailOf(userId: string): Promise<string | null> {
  return (await env.DB.prepare("SELECT email FROM users WHERE id = ?").bind(userId).first<{ email: string | null }>())?.email ?? null;
}

describe("email change racing a registration of the same address", () => {
  it(`exactly one account holds the address, in ${ROUNDS} parallel rounds`, async () => {
    const winners = { change: 0, signUp: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const address = uniqueEmail(`race-${round}`);
      const user = await changer(`race-${round}`);
      await registerUser({ email: address });
      expect((await requestEmailChange(user.token, address)).status).toBe(202);
      const [signUp, change] = await Promise.all([
        post("/auth/verify-email", { email: address, code: signUpCode(address), device_id: "racer" }).then(outcome),
        confirmEmailChange(user.token, emailChangeCode(address)).then(outcome),
      ]);
      expect(await accountsWithEmail(address)).toBe(1);
      if (change.status === 200) {
        winners.change++;
        // The sign-up's right code finds the address taken: no user is created.
        expect(outcomeKey(signUp)).toBe("400 invalid_code");
        expect(await emailOf(user.id)).toBe(address);
      } else {
        winners.signUp++;
        expect(outcomeKey(change)).toBe("409 email_taken");
        expect(outcomeKey(signUp)).toBe("200 ok");
        expect(await emailOf(user.id)).toBe(user.email);
      }
    }
    expect(winners.change + winners.signUp).toBe(ROUNDS);
  });
});

describe("two email changes racing for one address", () => {
  it(`exactly one account holds it; the other answers 409 email_taken and keeps its address, in ${ROUNDS} rounds`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const address = uniqueEmail(`pair-${round}`);
      const [a, b] = await Promise.all([changer(`pair-a-${round}`), changer(`pair-b-${round}`)]);
      expect((await requestEmailChange(a!.token, address)).status).toBe(202);
      const codeA = emailChangeCode(address);
      // The per-account cooldown is the requester's own: b may ask at once.
      expect((await requestEmailChange(b!.token, address)).status).toBe(202);
      const codeB = emailChangeCode(address);
      const answers = await Promise.all([confirmEmailChange(a!.token, codeA), confirmEmailChange(b!.token, codeB)].map((p) => p.then(outcome)));
      expect(answers.map(outcomeKey).sort()).toEqual(["200 ok", "409 email_taken"]);
      expect(await accountsWithEmail(address)).toBe(1);
      const loser = answers[0]!.status === 200 ? b! : a!;
      expect(await emailOf(loser.id)).toBe(loser.email);
    }
  });
});
