// Invariant: a pending registration becomes exactly one user, however many correct verifications
// arrive at once (code and link alike): one 200, every other answer 400 invalid_code or invalid_token,
// one users row.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { lastCode, lastLinkToken, outcome, outcomeKey, PASSWORD, post, registerUser, usersFor } from "../helpers";

describe("parallel verification", () => {
  it("20 concurrent verifications with the right code create one user and one session", async () => {
    const { email } = await registerUser();
    const code = lastCode(email);

    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => post("/auth/verify-email", { email, code, device_id: `device-${i}` })),
    );
    const outcomes = (await Promise.all(answers.map(outcome))).map(outcomeKey);
    expect(outcomes.filter((o) => o === "200 ok")).toHaveLength(1);
    for (const o of outcomes.filter((o) => o !== "200 ok")) {
      expect(["409 already_verified", "400 invalid_code"]).toContain(o);
    }

    const users = await usersFor(email);
    expect(users).toHaveLength(1);
    const sessions = await env.DB.prepare("SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?").bind(users[0]!.id).first<{ n: number }>();
    expect(sessions!.n).toBe(1);
  });

  it("the code and the link used at once create one user", async () => {
    const { email } = await registerUser();
    const code = lastCode(email);
    const token = lastLinkToken(email);

    const answers = await Promise.all([
      ...Array.from({ length: 10 }, () => post("/auth/verify-email", { email, code })),
      ...Array.from({ length: 10 }, () => post("/auth/verify", { token, password: PASSWORD })),
    ]);
    const outcomes = (await Promise.all(answers.map(outcome))).map(outcomeKey);
    expect(outcomes.filter((o) => o === "200 ok")).toHaveLength(1);
    for (const o of outcomes.filter((o) => o !== "200 ok")) {
      expect(["400 invalid_code", "400 invalid_token"]).toContain(o);
    }
    expect(await usersFor(email)).toHaveLength(1);
  });
});
