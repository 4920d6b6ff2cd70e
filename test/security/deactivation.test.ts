// Invariant: once an admin deactivates a user (PATCH /admin/users/{id} { is_active: false }), every
// session of that user ends at once (access tokens answer 401, refresh tokens 401), and no way of
// signing in (password, phone code, Google) opens a new one (403 account_disabled) until an admin
// reactivates the account.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { googleIdToken, newGoogleAccount, signInWithIdToken } from "../helpers/google-fake";
import {
  adminUser,
  authed,
  expectAccessRefused,
  expectProblem,
  expectRefreshRefused,
  login,
  patchUser,
  phoneSignIn,
  post,
  refreshesRacing,
  signedInUser,
  uniquePhone,
  type Json,
} from "../helpers";

/** Gives the user a proved phone number, so phone sign-in finds this account. */
async function provePhone(userId: string): Promise<string> {
  const phone = uniquePhone();
  await env.DB.prepare("UPDATE users SET phone = ?, is_phone_verified = 1 WHERE id = ?").bind(phone, userId).run();
  return phone;
}

describe("a deactivated user", () => {
  it("loses every session at once and cannot sign in by any method", async () => {
    const admin = (await adminUser()).token;
    const { email, password, tokens, deviceId } = await signedInUser({}, "deact-1");
    const userId = tokens.user.id as string;
    const second = await login(email, password, "deact-2");
    const phone = await provePhone(userId);
    expect((await authed(tokens.access_token, "/users/me")).status).toBe(200);

    const res = await patchUser(admin, userId, { is_active: false });
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
    const admin = (await adminUser()).token;
    const { email, password, tokens, deviceId } = await signedInUser({}, "react-1");
    const userId = tokens.user.id as string;
    const phone = await provePhone(userId);
    expect((await patchUser(admin, userId, { is_active: false })).status).toBe(200);
    await expectProblem(await post("/auth/login", { email, password, device_id: "react-2" }), 403, "account_disabled");

    const res = await patchUser(admin, userId, { is_active: true });
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
    const admin = (await adminUser()).token;
    const { tokens, deviceId } = await signedInUser({}, "race-1");
    const userId = tokens.user.id as string;

    const { revocation, issued } = await refreshesRacing(tokens.refresh_token, deviceId, () =>
      patchUser(admin, userId, { is_active: false }),
    );
    expect(revocation.status).toBe(200);

    await expectAccessRefused(tokens.access_token);
    for (const pair of issued) {
      await expectAccessRefused(pair.access_token);
      await expectRefreshRefused(pair.refresh_token, deviceId);
    }
  });

  it("a burst of logins racing the deactivation leaves no session that works", async () => {
    const admin = (await adminUser()).token;
    const { email, password, tokens } = await signedInUser({}, "race-0");
    const userId = tokens.user.id as string;
    // Each login needs its own address for the throttle not to slow the burst: one account, many
    // devices, sent together with the deactivation.
    const logins = Array.from({ length: 8 }, (_, i) =>
      post("/auth/login", { email, password, device_id: `race-${i + 1}` }).then(async (r) => (r.status === 200 ? ((await r.json()) as Json) : null)),
    );
    const [deactivated, ...opened] = await Promise.all([patchUser(admin, userId, { is_active: false }), ...logins]);
    expect(deactivated.status).toBe(200);
    for (const t of opened.filter((t): t is Json => t !== null)) {
      await expectAccessRefused(t.access_token as string);
    }
    const { results } = await env.DB.prepare("SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL").bind(userId).all();
    expect(results).toHaveLength(0);
  });
});
