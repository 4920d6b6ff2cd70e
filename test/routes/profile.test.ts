import { describe, expect, it } from "vitest";
import { authed, expectProblem, patchMe, signedInUser } from "../helpers";

describe("profile", () => {
  it("returns the public User shape", async () => {
    const { email, tokens } = await signedInUser({ username: null });
    const res = await authed(tokens.access_token, "/users/me");
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const user = await res.json<Record<string, unknown>>();
    expect(Object.keys(user).sort()).toEqual(
      [
        "created_at", "email", "first_name", "full_name", "id", "is_email_verified", "is_phone_verified",
        "kyc_status", "last_name", "phone", "profile_picture", "role", "username",
      ].sort(),
    );
    expect(user).toMatchObject({ email, full_name: "Test User", is_phone_verified: false, profile_picture: null });
  });

  it("updates any subset of the fields", async () => {
    const { tokens } = await signedInUser();
    const res = await patchMe(tokens.access_token, { first_name: "Ada", last_name: "Lovelace", profile_picture: "https://cdn.example.com/a.png" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ first_name: "Ada", last_name: "Lovelace", full_name: "Test User", profile_picture: "https://cdn.example.com/a.png" });
    const again = await (await authed(tokens.access_token, "/users/me")).json();
    expect(again).toMatchObject({ first_name: "Ada" });
  });

  it("refuses fields that are not part of the profile, and bad values", async () => {
    const { tokens } = await signedInUser();
    await expectProblem(await patchMe(tokens.access_token, { role: "ADMIN" }), 400, "validation_error");
    await expectProblem(await patchMe(tokens.access_token, { email: "other@example.com" }), 400, "validation_error");
    await expectProblem(await patchMe(tokens.access_token, { profile_picture: "javascript:alert(1)" }), 400, "validation_error");
    const me = await (await authed(tokens.access_token, "/users/me")).json<{ role: string }>();
    expect(me.role).toBe("CUSTOMER");
  });

  it("keeps usernames unique", async () => {
    const name = `user_${crypto.randomUUID().slice(0, 8)}`;
    await signedInUser({ username: name });
    const { tokens } = await signedInUser();
    await expectProblem(await patchMe(tokens.access_token, { username: name }), 409, "username_taken");
  });

  it("needs a bearer token", async () => {
    await expectProblem(await patchMe("not-a-token", { first_name: "X" }), 401, "invalid_access_token");
  });
});
