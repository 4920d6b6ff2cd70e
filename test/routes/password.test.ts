import { describe, expect, it } from "vitest";
import { confirmPasswordReset } from "../../src/domain/password-reset";
import {
  authed,
  expectProblem,
  lastCode,
  lastLinkToken,
  login,
  post,
  signedInUser,
  testDeps,
  waitForMessages,
  PASSWORD,
} from "../helpers";

const NEW_PASSWORD = "a brand new passphrase";

async function requestReset(email: string) {
  const before = (await waitForMessages(email, 0)).length;
  const res = await post("/auth/password-reset/request", { email });
  expect(res.status).toBe(202);
  await waitForMessages(email, before + 1);
}

describe("password reset", () => {
  it("resets with the emailed code and ends every session", async () => {
    const { email, tokens } = await signedInUser();
    const other = await login(email, PASSWORD, "laptop");
    await requestReset(email);
    const res = await post("/auth/password-reset/confirm", { email, code: lastCode(email), new_password: NEW_PASSWORD });
    expect(res.status).toBe(200);

    for (const t of [tokens, other]) {
      await expectProblem(await authed(t.access_token, "/users/me"), 401, "invalid_access_token");
      await expectProblem(await post("/auth/refresh", { refresh_token: t.refresh_token, device_id: "laptop" }), 401, "invalid_refresh_token");
    }
    await expectProblem(await post("/auth/login", { email, password: PASSWORD, device_id: "d" }), 401, "invalid_credentials");
    expect((await login(email, NEW_PASSWORD, "d")).access_token).toBeTruthy();
  });

  it("resets with the emailed link token, once", async () => {
    const { email } = await signedInUser();
    await requestReset(email);
    const token = lastLinkToken(email);
    expect((await post("/auth/password-reset/confirm", { token, new_password: NEW_PASSWORD })).status).toBe(200);
    await expectProblem(await post("/auth/password-reset/confirm", { token, new_password: "yet another passphrase" }), 400, "invalid_token");
    expect((await login(email, NEW_PASSWORD, "d")).access_token).toBeTruthy();
  });

  it("the link points at the front end, not the API", async () => {
    const { email } = await signedInUser();
    await requestReset(email);
    const [message] = (await waitForMessages(email, 2)).slice(-1);
    expect(message!.text).toContain("http://127.0.0.1:8787/reset-password?token=");
  });

  it("refuses a weak new password without spending the code", async () => {
    const { email } = await signedInUser();
    await requestReset(email);
    const code = lastCode(email);
    const weak = await post("/auth/password-reset/confirm", { email, code, new_password: "password123" });
    const body = await expectProblem(weak, 400, "weak_password");
    expect(body.errors[0].path).toBe("new_password");
    expect((await post("/auth/password-reset/confirm", { email, code, new_password: NEW_PASSWORD })).status).toBe(200);
  });

  it("answers invalid_token and invalid_code for bad proofs", async () => {
    const { email } = await signedInUser();
    await expectProblem(await post("/auth/password-reset/confirm", { token: "nope", new_password: NEW_PASSWORD }), 400, "invalid_token");
    await expectProblem(await post("/auth/password-reset/confirm", { email, code: "123456", new_password: NEW_PASSWORD }), 400, "invalid_code");
    await expectProblem(await post("/auth/password-reset/confirm", { new_password: NEW_PASSWORD }), 400, "validation_error");
  });

  it("a reset code older than 15 minutes is refused", async () => {
    const { email } = await signedInUser();
    await requestReset(email);
    const { deps } = testDeps();
    await expect(
      confirmPasswordReset(deps, { email, code: lastCode(email) }, NEW_PASSWORD, Date.now() + 15 * 60_000 + 1000),
    ).rejects.toMatchObject({ code: "invalid_code" });
  });
});

describe("password change", () => {
  it("needs the current password and ends every other session", async () => {
    const { email, tokens } = await signedInUser();
    const other = await login(email, PASSWORD, "laptop");
    const change = (body: object) =>
      authed(tokens.access_token, "/auth/password/change", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    await expectProblem(await change({ current_password: "wrong password!", new_password: NEW_PASSWORD }), 401, "invalid_credentials");
    await expectProblem(await change({ current_password: PASSWORD, new_password: PASSWORD }), 400, "weak_password");
    await expectProblem(await change({ current_password: PASSWORD, new_password: "iloveyou" }), 400, "weak_password");
    expect((await change({ current_password: PASSWORD, new_password: NEW_PASSWORD })).status).toBe(200);

    expect((await authed(tokens.access_token, "/users/me")).status).toBe(200);
    await expectProblem(await authed(other.access_token, "/users/me"), 401, "invalid_access_token");
    await expectProblem(await post("/auth/refresh", { refresh_token: other.refresh_token, device_id: "laptop" }), 401, "invalid_refresh_token");
    expect((await login(email, NEW_PASSWORD, "d")).access_token).toBeTruthy();
  });

  it("needs a bearer token", async () => {
    const res = await post("/auth/password/change", { current_password: PASSWORD, new_password: NEW_PASSWORD });
    await expectProblem(res, 401, "invalid_access_token");
  });
});
