// POST /users/me/password: a first password for an account that has none, under the password
// policy; 409 password_exists when one is set; no session ends; two racing requests set one.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import {
  auditDetailsOf,
  confirmEmailChange,
  emailChangeCode,
  expectProblem,
  moveClock,
  phoneSignIn,
  phoneUser,
  post,
  requestEmailChange,
  restoreClock,
  rotate,
  setFirstPassword,
  signedInUser,
  uniqueEmail,
  type Json,
} from "../helpers";

const NEW_PASSWORD = "a long and unusual passphrase";

async function passwordHashOf(userId: string): Promise<string | null> {
  return (await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?").bind(userId).first<{ password_hash: string | null }>())!.password_hash;
}

describe("setting a first password", () => {
  afterEach(restoreClock);

  it("a phone user sets one; their other sessions go on; with a proved email it signs in", async () => {
    const user = await phoneUser();
    const other = await (await phoneSignIn(user.phone, { device_id: "second-phone" })).json<Json>();
    const res = await setFirstPassword(user.token, NEW_PASSWORD);
    expect(res.status).toBe(200);
    expect((await res.json<Json>()).message).toBeTypeOf("string");
    expect(await passwordHashOf(user.id)).toMatch(/^\$argon2id\$|^[a-z0-9-]+\$/);
    expect(await auditDetailsOf("password.set", user.id)).toHaveLength(1);
    // It adds a way in and removes none: the other device's session still refreshes.
    expect((await rotate(other.refresh_token, "second-phone")).access_token).toBeTypeOf("string");

    const address = uniqueEmail("with-password");
    expect((await requestEmailChange(user.token, address)).status).toBe(202);
    expect((await confirmEmailChange(user.token, emailChangeCode(address))).status).toBe(200);
    expect((await post("/auth/login", { email: address, password: NEW_PASSWORD, device_id: "d" })).status).toBe(200);
  });

  it("409 password_exists when the account has one (change it instead), and the hash is unchanged", async () => {
    const user = await signedInUser({}, "has-password");
    const id = user.tokens.user.id as string;
    const before = await passwordHashOf(id);
    await expectProblem(await setFirstPassword(user.tokens.access_token, NEW_PASSWORD), 409, "password_exists");
    expect(await passwordHashOf(id)).toBe(before);
  });

  it("the password policy applies: a common password is 400 weak_password on new_password; a short one 400 validation_error", async () => {
    const user = await phoneUser();
    const weak = await expectProblem(await setFirstPassword(user.token, "password"), 400, "weak_password");
    expect(weak.errors).toEqual([expect.objectContaining({ path: "new_password" })]);
    await expectProblem(await setFirstPassword(user.token, "short"), 400, "validation_error");
    expect(await passwordHashOf(user.id)).toBeNull();
  });

  it("a burst of requests sets exactly one password; the rest answer 409 password_exists", async () => {
    const user = await phoneUser();
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => setFirstPassword(user.token, `${NEW_PASSWORD} ${i}`)));
    const codes = await Promise.all(answers.map(async (r) => (r.status === 200 ? "ok" : (await r.json<Json>()).code)));
    expect(codes.filter((c) => c === "ok")).toHaveLength(1);
    expect(codes.filter((c) => c === "password_exists")).toHaveLength(5);
    expect(await auditDetailsOf("password.set", user.id)).toHaveLength(1);
  });

  it("needs a recent sign-in: a token signed in 11 minutes ago gets 403 and sets nothing", async () => {
    const user = await phoneUser();
    moveClock(11 * 60_000);
    await expectProblem(await setFirstPassword(user.token, NEW_PASSWORD), 403, "reauthentication_required");
    expect(await passwordHashOf(user.id)).toBeNull();
  });
});
