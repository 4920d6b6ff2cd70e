// Invariant: the isolate's hot-path cache (src/storage/hot-cache.ts) never lets a session revoked
// through this isolate be used again, even when its "open" answer was cached a moment before and
// a burst of requests follows the revocation; a revocation that only reached KV (made through
// another isolate) and a row changed outside the service are seen within HOT_PATH_CACHE_MS; a
// write to a user through the service shows at once; the cache's maps stay bounded.
import { env } from "cloudflare:test";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { refresh } from "../../src/domain/session-tokens";
import { hotCacheSizes, sessionsRevoked } from "../../src/storage/hot-cache";
import { kvKeys } from "../../src/storage/kv-keys";
import {
  adminUser,
  authed,
  lastCode,
  login,
  outcome,
  patchMe,
  patchUser,
  pause,
  post,
  rotate,
  signedInUser,
  submitOk,
  tally,
  testDeps,
  waitForMessages,
  type Json,
} from "../helpers";

const config = loadConfig(env);

/** Makes the cache hold the session as open and the user's row. */
async function warm(accessToken: string): Promise<Json> {
  let user: Json = {};
  for (let i = 0; i < 3; i++) {
    const res = await authed(accessToken, "/users/me");
    expect(res.status).toBe(200);
    user = await res.json<Json>();
  }
  return user;
}

async function burstOfMe(accessToken: string, n = 20): Promise<Record<string, number>> {
  const outcomes = await Promise.all(
    Array.from({ length: n }, async () => outcome(await authed(accessToken, "/users/me"))),
  );
  return tally(outcomes);
}

const refusedBurst = { "401 invalid_access_token": 20 };

describe("a revocation through this isolate beats a cached open session", () => {
  it("logout", async () => {
    const { tokens } = await signedInUser({}, "hc-logout");
    await warm(tokens.access_token);
    expect((await post("/auth/logout", { refresh_token: tokens.refresh_token })).status).toBe(200);
    expect(await burstOfMe(tokens.access_token)).toEqual(refusedBurst);
  });

  it("logout-all", async () => {
    const { email, password, tokens } = await signedInUser({}, "hc-all-1");
    const second = await login(email, password, "hc-all-2");
    await Promise.all([warm(tokens.access_token), warm(second.access_token)]);
    expect((await authed(tokens.access_token, "/auth/logout-all", { method: "POST" })).status).toBe(200);
    expect(await burstOfMe(tokens.access_token)).toEqual(refusedBurst);
    expect(await burstOfMe(second.access_token)).toEqual(refusedBurst);
  });

  it("DELETE /auth/sessions/{id}", async () => {
    const { email, password, tokens } = await signedInUser({}, "hc-del-1");
    const second = await login(email, password, "hc-del-2");
    await warm(second.access_token);
    const sid = decodeJwt(second.access_token).sid as string;
    expect((await authed(tokens.access_token, `/auth/sessions/${sid}`, { method: "DELETE" })).status).toBe(204);
    expect(await burstOfMe(second.access_token)).toEqual(refusedBurst);
  });

  it("password change (every other session)", async () => {
    const { email, password, tokens } = await signedInUser({}, "hc-pw-1");
    const second = await login(email, password, "hc-pw-2");
    await warm(second.access_token);
    const res = await authed(tokens.access_token, "/auth/password/change", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ current_password: password, new_password: "a different long passphrase 42" }),
    });
    expect(res.status).toBe(200);
    expect(await burstOfMe(second.access_token)).toEqual(refusedBurst);
    expect((await authed(tokens.access_token, "/users/me")).status).toBe(200);
  });

  it("password reset", async () => {
    const { email, tokens } = await signedInUser({}, "hc-reset");
    await warm(tokens.access_token);
    expect((await post("/auth/password-reset/request", { email })).status).toBe(202);
    await waitForMessages(email, 2); // the verification email, then the reset one
    const confirm = await post("/auth/password-reset/confirm", {
      email,
      code: lastCode(email),
      new_password: "a brand new reset passphrase 7",
    });
    expect(confirm.status).toBe(200);
    expect(await burstOfMe(tokens.access_token)).toEqual(refusedBurst);
  });

  it("an admin revoking the sessions, and an admin deactivating the account", async () => {
    const admin = await adminUser();
    const revokedUser = await signedInUser({}, "hc-admin-revoke");
    const deactivated = await signedInUser({}, "hc-admin-deactivate");
    await Promise.all([warm(revokedUser.tokens.access_token), warm(deactivated.tokens.access_token)]);

    const revoke = await authed(admin.token, `/admin/users/${revokedUser.tokens.user.id}/revoke-sessions`, { method: "POST" });
    expect(revoke.status).toBe(200);
    const deactivate = await patchUser(admin.token, deactivated.tokens.user.id, { is_active: false });
    expect(deactivate.status).toBe(200);

    expect(await burstOfMe(revokedUser.tokens.access_token)).toEqual(refusedBurst);
    expect(await burstOfMe(deactivated.tokens.access_token)).toEqual(refusedBurst);
  });

  it("refresh-token reuse detection", async () => {
    const { tokens, deviceId } = await signedInUser({}, "hc-reuse");
    await rotate(tokens.refresh_token, deviceId);
    await warm(tokens.access_token);
    const { deps, settle } = testDeps();
    const afterGrace = Date.now() + (config.refreshGrace + 1) * 1000;
    await expect(refresh(deps, { refreshToken: tokens.refresh_token, deviceId }, afterGrace)).rejects.toMatchObject({
      code: "refresh_token_reused",
    });
    await settle();
    expect(await burstOfMe(tokens.access_token)).toEqual(refusedBurst);
  });
});

describe("what another isolate or an outside edit changed", () => {
  it("a revocation that only reached KV is honoured within HOT_PATH_CACHE_MS", async () => {
    const { tokens } = await signedInUser({}, "hc-kv-only");
    await warm(tokens.access_token);
    const sid = decodeJwt(tokens.access_token).sid as string;
    // What the Durable Object writes when a revocation goes through another isolate.
    await env.KV.put(kvKeys.revokedSession(sid), "1", { expirationTtl: 900 });
    await pause(config.hotPathCacheMs + 50);
    expect(await burstOfMe(tokens.access_token)).toEqual(refusedBurst);
  });

  it("a user row changed outside the service shows within HOT_PATH_CACHE_MS", async () => {
    const { tokens } = await signedInUser({ full_name: "Before Edit" }, "hc-outside");
    expect((await warm(tokens.access_token)).full_name).toBe("Before Edit");
    await env.DB.prepare("UPDATE users SET full_name = 'After Edit' WHERE id = ?").bind(tokens.user.id).run();
    await pause(config.hotPathCacheMs + 50);
    const res = await authed(tokens.access_token, "/users/me");
    expect((await res.json<Json>()).full_name).toBe("After Edit");
  });
});

describe("writes through the service show at once", () => {
  it("profile, role and KYC status", async () => {
    const admin = await adminUser();
    const { tokens } = await signedInUser({ role: "PROVIDER" }, "hc-writes");
    expect(await warm(tokens.access_token)).toMatchObject({ full_name: "Test User", role: "PROVIDER", kyc_status: "NOT_SUBMITTED" });

    const patched = await patchMe(tokens.access_token, { full_name: "Renamed At Once" });
    expect(patched.status).toBe(200);
    expect((await (await authed(tokens.access_token, "/users/me")).json<Json>()).full_name).toBe("Renamed At Once");

    await submitOk(tokens.access_token);
    expect((await (await authed(tokens.access_token, "/users/me")).json<Json>()).kyc_status).toBe("PENDING");

    const role = await patchUser(admin.token, tokens.user.id, { role: "CUSTOMER" });
    expect(role.status).toBe(200);
    expect((await (await authed(tokens.access_token, "/users/me")).json<Json>()).role).toBe("CUSTOMER");
  });
});

describe("bounds", () => {
  it("keeps at most 10,000 entries per map, dropping the oldest", () => {
    const ids = Array.from({ length: 10_050 }, () => crypto.randomUUID());
    sessionsRevoked(config, ids);
    expect(hotCacheSizes().revoked).toBe(10_000);
  });
});
