// Invariant: holding an access token is not enough to change the password or the second factors.
// Those routes answer 403 reauthentication_required unless the token's auth_time is within 10
// minutes; POST /auth/reauthenticate (password or TOTP) gives the same session a fresh auth_time. A
// refresh never moves auth_time; a refresh after reauthenticating carries the new one. An access
// token of an ended session cannot reauthenticate. The clock is moved forward for the whole Worker.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { reauthenticate as reauthenticateDomain } from "../../src/domain/reauthenticate";
import {
  authed,
  authOf,
  enrolTotp,
  expectProblem,
  login,
  moveClock,
  NO_META,
  PASSWORD,
  pollUntil,
  post,
  reauthenticate,
  restoreClock,
  rotate,
  signedInUser,
  testDeps,
  totpCode,
  type Json,
} from "../helpers";

const ELEVEN_MINUTES = 11 * 60_000;
const NEW_PASSWORD = "a different horse battery staple";

afterEach(restoreClock);

function changePassword(token: string, current = PASSWORD, next = NEW_PASSWORD) {
  return post("/auth/password/change", { current_password: current, new_password: next }, { authorization: `Bearer ${token}` });
}

const deleteTotp = (token: string) => authed(token, "/users/me/mfa/totp", { method: "DELETE" });
const startTotp = (token: string) => authed(token, "/users/me/mfa/totp", { method: "POST" });
const newRecoveryCodes = (token: string) => authed(token, "/users/me/mfa/recovery-codes", { method: "POST" });

async function reauthOk(token: string, body: Json): Promise<Json> {
  const res = await reauthenticate(token, body);
  expect(res.status).toBe(200);
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  const answer = await res.json<Json>();
  expect(Object.keys(answer).sort()).toEqual(["access_expires_at", "access_token", "expires_in", "token_type"]);
  return answer;
}

describe("routes that need a recent sign-in", () => {
  it("a token signed in 11 minutes ago cannot change the password; after reauthenticating it can", async () => {
    const { tokens, email } = await signedInUser({}, "stale-pw");
    moveClock(ELEVEN_MINUTES);
    await expectProblem(await changePassword(tokens.access_token), 403, "reauthentication_required");

    const fresh = await reauthOk(tokens.access_token, { password: PASSWORD });
    const claims = authOf(fresh.access_token);
    expect(claims.sid).toBe(authOf(tokens.access_token).sid);
    expect(claims.amr).toEqual(["pwd"]);
    expect(Math.abs(claims.auth_time - Math.floor(Date.now() / 1000))).toBeLessThanOrEqual(2);

    expect((await changePassword(fresh.access_token)).status).toBe(200);
    // The old token of the same session is still as stale as it was.
    await expectProblem(await changePassword(tokens.access_token, NEW_PASSWORD, PASSWORD), 403, "reauthentication_required");
    expect((await post("/auth/login", { email, password: NEW_PASSWORD, device_id: "x" })).status).toBe(200);
  });

  it("a stale token cannot remove TOTP, start an enrolment or renew recovery codes; after a TOTP reauthentication it can", async () => {
    const { tokens } = await signedInUser({}, "stale-totp");
    const { secret } = await enrolTotp(tokens.access_token);
    moveClock(ELEVEN_MINUTES);
    await expectProblem(await deleteTotp(tokens.access_token), 403, "reauthentication_required");
    await expectProblem(await newRecoveryCodes(tokens.access_token), 403, "reauthentication_required");
    await expectProblem(await startTotp(tokens.access_token), 403, "reauthentication_required");

    const fresh = await reauthOk(tokens.access_token, { totp: totpCode(secret) });
    expect(authOf(fresh.access_token).amr).toEqual(["otp"]);
    expect((await newRecoveryCodes(fresh.access_token)).status).toBe(200);
    expect((await deleteTotp(fresh.access_token)).status).toBe(204);
    expect((await startTotp(fresh.access_token)).status).toBe(200);
  });

  it("ten minutes is still recent", async () => {
    const { tokens } = await signedInUser({}, "edge");
    moveClock(9 * 60_000 + 50_000);
    expect((await newRecoveryCodes(tokens.access_token)).status).toBe(404);
  });
});

describe("auth_time across refreshes", () => {
  it("a refresh keeps the session's auth_time and amr, however late it comes", async () => {
    const { tokens, deviceId } = await signedInUser({}, "keep");
    const signedIn = authOf(tokens.access_token);
    moveClock(ELEVEN_MINUTES);
    const pair = await rotate(tokens.refresh_token, deviceId);
    const refreshed = authOf(pair.access_token);
    expect(refreshed.iat).toBeGreaterThan(signedIn.iat);
    expect({ auth_time: refreshed.auth_time, amr: refreshed.amr }).toEqual({ auth_time: signedIn.auth_time, amr: signedIn.amr });
    await expectProblem(await changePassword(pair.access_token), 403, "reauthentication_required");
  });

  it("a refresh after reauthenticating carries the new auth_time; the refresh token is unchanged by it", async () => {
    const { tokens, deviceId } = await signedInUser({}, "carry");
    moveClock(ELEVEN_MINUTES);
    const fresh = await reauthOk(tokens.access_token, { password: PASSWORD });
    // The refresh token the client holds is still the current one: it rotates normally.
    const pair = await rotate(tokens.refresh_token, deviceId);
    expect(authOf(pair.access_token)).toMatchObject({ auth_time: authOf(fresh.access_token).auth_time, amr: ["pwd"] });
    expect((await changePassword(pair.access_token)).status).toBe(200);
  });
});

describe("POST /auth/reauthenticate", () => {
  it("refuses a wrong password (401), a wrong code (400) and a code for a user without TOTP (400)", async () => {
    const { tokens } = await signedInUser({}, "wrong");
    await expectProblem(await reauthenticate(tokens.access_token, { password: "not the password" }), 401, "invalid_credentials");
    await expectProblem(await reauthenticate(tokens.access_token, { totp: "123456" }), 400, "totp_not_enrolled");
    const { secret } = await enrolTotp(tokens.access_token);
    const wrong = String((Number(totpCode(secret, 1)) + 1) % 1_000_000).padStart(6, "0");
    await expectProblem(await reauthenticate(tokens.access_token, { totp: wrong }), 400, "invalid_code");
  });

  it("takes exactly one of password and totp", async () => {
    const { tokens } = await signedInUser({}, "shape");
    for (const body of [{}, { password: PASSWORD, totp: "123456" }, { totp: "12345" }, { password: "" }, { passkey: {} }]) {
      await expectProblem(await reauthenticate(tokens.access_token, body), 400, "validation_error");
    }
  });

  it("refuses an access token of an ended session", async () => {
    const { tokens } = await signedInUser({}, "ended");
    expect((await post("/auth/logout", { refresh_token: tokens.refresh_token })).status).toBe(200);
    await expectProblem(await reauthenticate(tokens.access_token, { password: PASSWORD }), 401, "invalid_access_token");
  });

  it("the user's object refuses a session that has ended, even if the token still passed", async () => {
    const { tokens } = await signedInUser({}, "ended-do");
    const { sid, ...rest } = authOf(tokens.access_token);
    expect(rest.amr).toEqual(["otp"]);
    expect((await post("/auth/logout", { refresh_token: tokens.refresh_token })).status).toBe(200);
    const { deps, settle } = testDeps();
    const attempt = reauthenticateDomain(deps, { userId: tokens.user.id, sessionId: sid }, { method: "password", password: PASSWORD }, NO_META, Date.now());
    await expect(attempt).rejects.toMatchObject({ code: "invalid_access_token" });
    await settle();
  });

  it("a deactivated user is refused with account_disabled", async () => {
    const { tokens } = await signedInUser({}, "disabled");
    await env.DB.prepare("UPDATE users SET is_active = 0 WHERE id = ?").bind(tokens.user.id).run();
    await expectProblem(await reauthenticate(tokens.access_token, { password: PASSWORD }), 403, "account_disabled");
  });

  it("audits each success and failure", async () => {
    const { tokens } = await signedInUser({}, "audit");
    await expectProblem(await reauthenticate(tokens.access_token, { password: "nope" }), 401, "invalid_credentials");
    await reauthOk(tokens.access_token, { password: PASSWORD });
    const rows = await pollUntil(
      async () =>
        (
          await env.DB.prepare("SELECT action, details FROM audit_events WHERE subject_id = ? AND action LIKE 'reauth.%' ORDER BY at")
            .bind(tokens.user.id)
            .all<{ action: string; details: string }>()
        ).results,
      (r) => r.length >= 2,
    );
    expect(rows.map((r) => r.action).sort()).toEqual(["reauth.failed", "reauth.succeeded"]);
    for (const row of rows) expect(row.details).not.toContain(PASSWORD);
  });

  it("works for a password sign-in too, and the new token is usable everywhere", async () => {
    const { email, deviceId } = await signedInUser({}, "login");
    const tokens = await login(email, PASSWORD, deviceId);
    expect(authOf(tokens.access_token).amr).toEqual(["pwd"]);
    const fresh = await reauthOk(tokens.access_token, { password: PASSWORD });
    expect((await authed(fresh.access_token, "/users/me")).status).toBe(200);
  });
});
