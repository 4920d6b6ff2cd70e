// Invariant: a password-reset request answers the same status and body, in the same time class,
// whether or not the account exists, and only a real account receives an email. Reset codes have
// the same attempt cap as every code: a burst of 50 wrong codes gets exactly 5 tries.
import { describe, expect, it } from "vitest";
import { answerOf, expectProblem, lastCode, median, messagesTo, post, signedInUser, uniqueEmail, waitForMessages } from "../helpers";

async function timedRequest(email: string): Promise<number> {
  const start = performance.now();
  const res = await post("/auth/password-reset/request", { email });
  await res.arrayBuffer();
  expect(res.status).toBe(202);
  return performance.now() - start;
}

describe("password reset does not enumerate accounts", () => {
  it("answers an unknown address exactly like an existing one, and mails only the existing one", async () => {
    const { email } = await signedInUser();
    const unknown = uniqueEmail("nobody");
    const a = await answerOf(await post("/auth/password-reset/request", { email }), ["Content-Type"]);
    const b = await answerOf(await post("/auth/password-reset/request", { email: unknown }), ["Content-Type"]);
    expect(a).toEqual(b);
    expect(a.status).toBe(202);
    expect(await waitForMessages(email, 2)).toHaveLength(2);
    expect(messagesTo(unknown)).toHaveLength(0);
  });

  it("applies the same cooldown to unknown and existing addresses", async () => {
    const { email } = await signedInUser();
    const unknown = uniqueEmail("nobody");
    for (const address of [email, unknown]) {
      expect((await post("/auth/password-reset/request", { email: address })).status).toBe(202);
      const again = await post("/auth/password-reset/request", { email: address });
      await expectProblem(again, 429, "rate_limited");
      expect(Number(again.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    }
  });

  it("takes comparable time for existing and unknown addresses", async () => {
    const accounts = await Promise.all(Array.from({ length: 6 }, () => signedInUser()));
    await timedRequest(accounts[0]!.email);
    await timedRequest(uniqueEmail("nobody"));
    const known: number[] = [];
    const unknown: number[] = [];
    for (const account of accounts.slice(1)) {
      known.push(await timedRequest(account.email));
      unknown.push(await timedRequest(uniqueEmail("nobody")));
    }
    const ratio = median(unknown) / median(known);
    expect(ratio).toBeGreaterThan(0.33);
    expect(ratio).toBeLessThan(3);
  });

  it("a burst of 50 wrong reset codes gets exactly 5 tries, then the code is burned", async () => {
    const { email } = await signedInUser();
    expect((await post("/auth/password-reset/request", { email })).status).toBe(202);
    await waitForMessages(email, 2);
    const code = lastCode(email);
    const wrong = code === "000000" ? "000001" : "000000";
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => post("/auth/password-reset/confirm", { email, code: wrong, new_password: "a brand new passphrase" })),
    );
    const codes = await Promise.all(answers.map(async (r) => ((await r.json()) as { code: string }).code));
    expect(codes.filter((c) => c === "invalid_code")).toHaveLength(5);
    expect(codes.filter((c) => c === "too_many_attempts")).toHaveLength(45);
    const right = await post("/auth/password-reset/confirm", { email, code, new_password: "a brand new passphrase" });
    await expectProblem(right, 429, "too_many_attempts");
    expect(right.headers.get("Retry-After")).toBeTruthy();
  });
});
