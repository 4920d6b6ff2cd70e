// Invariant: the emailed verification link alone activates nothing. Opening it (GET or HEAD, as mail
// scanners do) only looks it up; activation is a POST that must carry the password chosen at
// sign-up, so whoever registers someone else's address cannot have the owner's click activate an
// account with the intruder's password (pre-account hijacking). Wrong passwords count against the
// code's attempt budget, exactly under a burst.
import { describe, expect, it } from "vitest";
import { call, expectProblem, lastCode, lastLinkToken, messagesTo, outcome, post, registerUser, tally, userRows } from "../helpers";

const MAX_ATTEMPTS = 5;

describe("verification link", () => {
  it("GET and HEAD only look the link up: no user is made and the code still works", async () => {
    const { email } = await registerUser();
    const token = lastLinkToken(email);
    const link = `/auth/verify?token=${encodeURIComponent(token)}`;

    const looked = await call(link);
    expect(looked.status).toBe(200);
    const body = await looked.json<{ email: string; expires_at: string }>();
    expect(body.email).toBe(email);
    expect(Date.parse(body.expires_at)).toBeGreaterThan(Date.now());
    expect((await call(link, { method: "HEAD" })).status).toBe(200);
    expect((await call(link)).status).toBe(200);
    expect(await userRows(email)).toBe(0);

    expect((await post("/auth/verify-email", { email, code: lastCode(email) })).status).toBe(200);
    expect(await userRows(email)).toBe(1);
    await expectProblem(await call(link), 400, "invalid_token");
  });

  it("activation needs the sign-up's password: the intruder's link cannot be activated by the owner's click", async () => {
    const { email, password } = await registerUser({ password: "intruder chose this one" });
    const token = lastLinkToken(email);

    await expectProblem(await post("/auth/verify", { token, password: "the owner's own password" }), 401, "invalid_credentials");
    expect(await userRows(email)).toBe(0);

    const res = await post("/auth/verify", { token, password, device_id: "laptop" });
    expect(res.status).toBe(200);
    const tokens = await res.json<Record<string, any>>();
    expect(tokens).toMatchObject({ token_type: "Bearer", user: { email, is_email_verified: true } });
    expect(typeof tokens.access_token).toBe("string");
    expect(typeof tokens.message).toBe("string");
    expect(await userRows(email)).toBe(1);
    // Single use.
    await expectProblem(await post("/auth/verify", { token, password }), 400, "invalid_token");
  });

  it("a burst of 20 wrong passwords gets 5 checks; after that even the right one is refused", async () => {
    const { email, password } = await registerUser();
    const token = lastLinkToken(email);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => post("/auth/verify", { token, password: `wrong password ${i}` })),
    );
    const outcomes = await Promise.all(answers.map(outcome));
    expect(tally(outcomes)).toEqual({ "401 invalid_credentials": MAX_ATTEMPTS, "429 too_many_attempts": 20 - MAX_ATTEMPTS });
    for (const r of answers.filter((a) => a.status === 429)) expect(r.headers.get("Retry-After")).toMatch(/^\d+$/);

    await expectProblem(await post("/auth/verify", { token, password }), 429, "too_many_attempts");
    await expectProblem(await post("/auth/verify-email", { email, code: lastCode(email) }), 429, "too_many_attempts");
    expect(await userRows(email)).toBe(0);
  });

  it("the link and the code share one attempt budget", async () => {
    const { email, password } = await registerUser();
    const token = lastLinkToken(email);
    const code = lastCode(email);
    const wrong = code === "000000" ? "111111" : "000000";
    for (let i = 0; i < 3; i++) await expectProblem(await post("/auth/verify-email", { email, code: wrong }), 400, "invalid_code");
    for (let i = 0; i < 2; i++) await expectProblem(await post("/auth/verify", { token, password: "nope nope" }), 401, "invalid_credentials");
    await expectProblem(await post("/auth/verify", { token, password }), 429, "too_many_attempts");
  });

  it("the link opens the verification page and the email says what to do if you did not sign up", async () => {
    const { email } = await registerUser();
    const text = messagesTo(email).at(-1)!.text;
    expect(text).toMatch(/\/verify-email\?token=/);
    expect(text).not.toContain("/api/v1/auth/verify?token=");
    expect(text).toMatch(/did not sign up/i);
  });
});
