// Every route that signs someone in answers through signInAnswer (src/routes/sign-in-answer.ts): a
// session becomes the token response with the flow's own fields after it; a sign-in that still needs
// a second factor becomes the challenge (mfa_required, the mfa_token, the methods), and nothing of the
// user or the flow.
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { PublicUser, SignInResult } from "../../src/domain/sign-in";
import { problemResponse } from "../../src/http/problem";
import { signInAnswer } from "../../src/routes/sign-in-answer";
import type { User } from "../../src/storage/users";

const TOKENS = {
  access_token: "a",
  token_type: "Bearer" as const,
  expires_in: 900,
  access_expires_at: "2026-01-01T00:15:00.000Z",
  refresh_token: "r",
  refresh_expires_at: "2026-01-31T00:00:00.000Z",
};

function answer<S extends SignInResult>(signedIn: S, more?: object): Promise<Response> {
  const app = new Hono().get("/", (c) => signInAnswer(c, signedIn, more)).onError(problemResponse);
  return Promise.resolve(app.request("/"));
}

describe("signInAnswer", () => {
  it("answers a session with the pair, the user, then the flow's and the route's fields, in that order", async () => {
    const user = { id: "u" } as PublicUser;
    const res = await answer({ kind: "session", tokens: TOKENS, user, created: true }, { message: "m" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(JSON.stringify({ ...TOKENS, user, created: true, message: "m" }));
  });

  it("answers a second-factor result with the challenge only: no tokens, no user, no flow fields", async () => {
    const res = await answer({
      kind: "second_factor",
      user: { id: "u" } as User,
      methods: ["totp", "recovery_code"],
      method: "password",
      device: { deviceId: "d", deviceName: null },
      challenge: { mfaToken: "t", expiresIn: 300 },
    }, { message: "m" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ mfa_required: true, mfa_token: "t", methods: ["totp", "recovery_code"], expires_in: 300 });
  });
});
