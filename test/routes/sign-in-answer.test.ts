// Every route that signs someone in answers through signInAnswer (src/routes/sign-in-answer.ts): a
// session becomes the token response with the flow's own fields after it; a sign-in that still needs
// a second factor cannot be answered yet and is a generic 500, its reason logged, never sent.
import { Hono } from "hono";
import { describe, expect, it, vi } from "vitest";
import type { PublicUser, SignInResult } from "../../src/domain/sign-in";
import { problemResponse } from "../../src/http/problem";
import { signInAnswer } from "../../src/routes/sign-in-answer";
import type { User } from "../../src/storage/users";
import { expectProblem } from "../helpers";

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

  it("turns a second-factor result into a generic 500 whose reason goes only to the log", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const res = await answer({
      kind: "second_factor",
      user: { id: "u" } as User,
      methods: ["totp"],
      method: "password",
      device: { deviceId: "d", deviceName: null },
    });
    const body = await expectProblem(res, 500, "internal_error");
    expect(JSON.stringify(body)).not.toContain("second factor");
    expect(logged.mock.calls.flat().join(" ")).toContain("second factor");
    logged.mockRestore();
  });
});
