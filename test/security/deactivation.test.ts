// Invariant: once an admin deactivates a user (PATCH /admin/users/{id} { is_active: false }), every
// session of that user ends at once (access tokens answer 401, refresh tokens 401), and no way of
// signing in (password, phone code, Google) opens a new one (403 account_disabled) until an admin
// reactivates the account.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { googleIdToken, newGoogleAccount, signInWithIdToken } from "../helpers/google-fake";
import { authed, expectProblem, lastSmsCode, login, post, signedInUser, uniquePhone, type Json } from "../helpers";

async function adminToken(): Promise<string> {
  const { tokens } = await signedInUser({}, "admin-device");
  await env.DB.prepare("UPDATE users SET role = 'ADMIN' WHERE id = ?").bind(tokens.user.id).run();
  return tokens.access_token;
}

function setActive(token: string, id: string, isActive: boolean) {
  return authed(token, `/admin/users/${id}`, {
    method: "PATCH",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ is_active: isActive }),
  });
}

async function expectAccessRefused(accessToken: string): Promise<void> {
  const res = await authed(accessToken, "/users/me");
  expect(res.headers.get("WWW-Authenticate")).toBe('Bearer error="invalid_token"');
  await expectProblem(res, 401, "invalid_access_token");
}

async function expectRefreshRefused(refreshToken: string, deviceId: string): Promise<void> {
  await expectProblem(await post("/auth/refresh", { refresh_token: refreshToken, device_id: deviceId }), 401, "invalid_refresh_token");
}

/** Gives the user a proved phone number, so phone sign-in finds this account. */
async function provePhone(userId: string): Promise<string> {
  const phone = uniquePhone();
  await env.DB.prepare("UPDATE users SET phone = ?, is_phone_verified = 1 WHERE id = ?").bind(phone, userId).run();
  return phone;
}

async function phoneSignIn(phone: string): Promise<Response> {
  expect((await post("/auth/phone/send-otp", { phone })).status).toBe(200);
  return post("/auth/phone/verify-otp", { phone, otp: lastSmsCode(phone), device_id: "phone-app" });
}

describe("a deactivated user", () => {
  it("loses every session at once and cannot sign in by any method", async () => {
    const admin = await adminToken();
    const { email, password, tokens, deviceId } = await signedInUser({}, "deact-1");
    const userId = tokens.user.id as string;
    const second = await login(email, password, "deact-2");
    const phone = await provePhone(userId);
    expect((await authed(tokens.access_token, "/users/me")).status).toBe(200);

    const res = await setActive(admin, userId, false);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: userId, is_active: false });

    await expectAccessRefused(tokens.access_token);
    await expectAccessRefused(second.access_token);
    await expectRefreshRefused(tokens.refresh_token, deviceId);
    await expectRefreshRefused(second.refresh_token, "deact-2");
    const sessions = await env.DB.prepare("SELECT COUNT(*) AS n FROM sessions WHERE user_id = ? AND revoked_at IS NULL")
      .bind(userId)
      .first<{ n: number }>();
    expect(sessions!.n).toBe(0);

    await expectProblem(await post("/auth/login", { email, password, device_id: "deact-3" }), 403, "account_disabled");
    // Said only after a correct password: a wrong one is still just invalid_credentials.
    await expectProblem(await post("/auth/login", { email, password: "not the password at all", device_id: "deact-3" }), 401, "invalid_credentials");
    await expectProblem(await phoneSignIn(phone), 403, "account_disabled");
    await expectProblem(await signInWithIdToken(await googleIdToken(newGoogleAccount(email))), 403, "account_disabled");

    const open = await env.DB.prepare("SELECT COUNT(*) AS n FROM sessions WHERE user_id = ? AND revoked_at IS NULL")
      .bind(userId)
      .first<{ n: number }>();
    expect(open!.n).toBe(0);
  });

  it("can sign in again once reactivated, while the old sessions stay ended", async () => {
    const admin = await adminToken();
    const { email, password, tokens, deviceId } = await signedInUser({}, "react-1");
    const userId = tokens.user.id as string;
    const phone = await provePhone(userId);
    expect((await setActive(admin, userId, false)).status).toBe(200);
    await expectProblem(await post("/auth/login", { email, password, device_id: "react-2" }), 403, "account_disabled");

    const res = await setActive(admin, userId, true);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ is_active: true });

    const again = await login(email, password, "react-2");
    expect(again.user.id).toBe(userId);
    expect((await authed(again.access_token, "/users/me")).status).toBe(200);
    const byPhone = await phoneSignIn(phone);
    expect(byPhone.status).toBe(200);
    expect((await byPhone.json<Json>()).user.id).toBe(userId);
    const byGoogle = await signInWithIdToken(await googleIdToken(newGoogleAccount(email)));
    expect(byGoogle.status).toBe(200);
    expect((await byGoogle.json<Json>()).user.id).toBe(userId);

    await expectAccessRefused(tokens.access_token);
    await expectRefreshRefused(tokens.refresh_token, deviceId);
  });

  it("keeps no working token from refreshes racing the deactivation", async () => {
    const admin = await adminToken();
    const { tokens, deviceId } = await signedInUser({}, "race-1");
    const userId = tokens.user.id as string;

    const refreshOnce = () => post("/auth/refresh", { refresh_token: tokens.refresh_token, device_id: deviceId });
    const firstWave = Array.from({ length: 10 }, refreshOnce);
    await Promise.race(firstWave);
    const [deactivated, ...secondWave] = await Promise.all([
      setActive(admin, userId, false),
      ...Array.from({ length: 10 }, refreshOnce),
    ]);
    expect(deactivated!.status).toBe(200);

    const issued: Json[] = [];
    for (const res of [...(await Promise.all(firstWave)), ...secondWave]) {
      if (res.status === 200) issued.push(await res.json<Json>());
      else await expectProblem(res, 401, "invalid_refresh_token");
    }
    expect(issued.length).toBeGreaterThan(0);
    await expectAccessRefused(tokens.access_token);
    for (const pair of issued) {
      await expectAccessRefused(pair.access_token);
      await expectRefreshRefused(pair.refresh_token, deviceId);
    }
  });

  it("a burst of logins racing the deactivation leaves no session that works", async () => {
    const admin = await adminToken();
    const { email, password, tokens } = await signedInUser({}, "race-0");
    const userId = tokens.user.id as string;
    // Each login needs its own address for the throttle not to slow the burst: one account, many
    // devices, sent together with the deactivation.
    const logins = Array.from({ length: 8 }, (_, i) =>
      post("/auth/login", { email, password, device_id: `race-${i + 1}` }).then(async (r) => (r.status === 200 ? ((await r.json()) as Json) : null)),
    );
    const [deactivated, ...opened] = await Promise.all([setActive(admin, userId, false), ...logins]);
    expect(deactivated.status).toBe(200);
    for (const t of opened.filter((t): t is Json => t !== null)) {
      await expectAccessRefused(t.access_token as string);
    }
    const { results } = await env.DB.prepare("SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL").bind(userId).all();
    expect(results).toHaveLength(0);
  });
});
