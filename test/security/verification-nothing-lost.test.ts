// Invariant: a failure that is not the code's fault never spends the code. A username taken by
// someone else between sign-up and verification does not fail a right code: the user is created
// without it and told so. A write that fails for another reason leaves the code working.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { verifyEmailCode } from "../../src/domain/registration";
import { database } from "../../src/storage/db";
import { authed, expectProblem, lastCode, NO_META, post, registerUser, signedInUser, testDeps, uniqueUsername } from "../helpers";

const DEVICE = { deviceId: "d-1", deviceName: null };

/** A D1 binding whose first INSERT INTO users fails as a lost connection would. */
function failingFirstUserInsert(): D1Database {
  let failed = false;
  return new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "prepare") {
        return (query: string) => {
          if (!failed && /insert into "users"/i.test(query)) {
            failed = true;
            throw new Error("D1_ERROR: Network connection lost.");
          }
          return target.prepare(query);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("nothing lost at verification", () => {
  it("a username taken meanwhile: the right code creates the user without it and says so", async () => {
    const username = uniqueUsername();
    const { email } = await registerUser({ username });
    const other = await signedInUser();
    const taken = await authed(other.tokens.access_token, "/users/me", {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: username.toLowerCase() }),
    });
    expect(taken.status).toBe(200);

    const res = await post("/auth/verify-email", { email, code: lastCode(email) });
    expect(res.status).toBe(200);
    const body = await res.json<{ user: { email: string; username: string | null }; notices: { code: string }[] }>();
    expect(body.user).toMatchObject({ email, username: null });
    expect(body.notices.map((n) => n.code)).toEqual(["username_taken"]);
  });

  it("a user write that fails for another reason leaves the code working", async () => {
    const { email } = await registerUser();
    const code = lastCode(email);
    const { deps, settle } = testDeps();
    const broken = { ...deps, db: database(failingFirstUserInsert()) };
    await expect(verifyEmailCode(broken, { email, code, device: DEVICE }, NO_META, Date.now())).rejects.toThrow();
    await settle();

    const res = await post("/auth/verify-email", { email, code });
    expect(res.status).toBe(200);
    expect((await res.json<{ user: { email: string } }>()).user.email).toBe(email);
    await expectProblem(await post("/auth/verify-email", { email, code }), 400, "invalid_code");
  });
});
