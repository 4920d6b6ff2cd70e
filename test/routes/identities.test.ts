// GET /users/me/identities, POST /users/me/identities/google, DELETE /users/me/identities/{type}:
// what each kind of account lists, linking Google by a proved ID token, removing a way in.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { googleIdToken, newGoogleAccount, signInWithIdToken } from "../helpers/google-fake";
import {
  googleAccount,
  identities,
  linkGoogle,
  passkeyAccount,
  passwordAccount,
  phoneAccount,
  provePhone,
  typesOf,
  unlink,
  withGoogle,
} from "../helpers/identities";
import { call, expectProblem, moveClock, pollUntil, post, registerPasskey, restoreClock, uniqueEmail, phoneSignIn, type Json } from "../helpers";

const auditRows = async (action: string, userId: string) =>
  (
    await env.DB.prepare("SELECT details FROM audit_events WHERE action = ? AND subject_id = ?").bind(action, userId).all<{ details: string | null }>()
  ).results;

describe("GET /users/me/identities", () => {
  it("a password account: the password and the email code for its verified address", async () => {
    const { token, email } = await passwordAccount();
    expect(await identities(token)).toEqual([{ type: "password" }, { type: "email_code", email }]);
  });

  it("a phone account: the proved number only; an email typed at sign-up (unverified) is no way in", async () => {
    const { token, phone } = await phoneAccount({ email: uniqueEmail("typed") });
    expect(await identities(token)).toEqual([{ type: "phone", phone, verified: true }]);
  });

  it("a Google account: the Google identity with its email and link time, and the email code", async () => {
    const { token, google } = await googleAccount();
    const list = await identities(token);
    expect(list).toEqual([
      { type: "email_code", email: google.email },
      { type: "google", email: google.email, linked_at: expect.any(String) },
    ]);
    expect(Date.parse(list[1]!.linked_at)).toBeGreaterThan(Date.now() - 60_000);
  });

  it("a passkey account: one entry per passkey, nothing secret", async () => {
    const { token, passkeys } = await passkeyAccount(2);
    const list = await identities(token);
    expect(list.map((i) => i.type)).toEqual(["email_code", "passkey", "passkey"]);
    expect(list.slice(1)).toEqual(
      passkeys.map((p) => ({ type: "passkey", id: p.id, name: p.name, created_at: p.created_at, last_used_at: null })),
    );
    expect(JSON.stringify(list)).not.toMatch(/public_key|counter|credential/);
  });

  it("a mixed account lists every way in, in a stable order", async () => {
    const { id, token, email } = await passwordAccount();
    const phone = await provePhone(id);
    const google = await withGoogle(token);
    const { passkey } = await registerPasskey(token, "Laptop");
    expect(await identities(token)).toEqual([
      { type: "password" },
      { type: "email_code", email },
      { type: "phone", phone, verified: true },
      { type: "google", email: google.email, linked_at: expect.any(String) },
      { type: "passkey", id: passkey.id, name: "Laptop", created_at: passkey.created_at, last_used_at: null },
    ]);
  });

  it("an unproved phone number and a password without a verified email are not listed", async () => {
    const { id, token } = await passkeyAccount(1);
    await env.DB.prepare("UPDATE users SET phone = ?, is_phone_verified = 0, password_hash = 'x', is_email_verified = 0 WHERE id = ?")
      .bind("+8801700000001", id)
      .run();
    expect(await typesOf(token)).toEqual(["passkey"]);
  });

  it("needs a bearer token", async () => {
    await expectProblem(await call("/api/v1/users/me/identities"), 401, "invalid_access_token");
  });
});

describe("POST /users/me/identities/google", () => {
  afterEach(restoreClock);

  it("links a proved Google account: listed, audited, and a Google sign-in now opens this account", async () => {
    const { id, token } = await passwordAccount();
    const google = newGoogleAccount();
    const res = await linkGoogle(token, await googleIdToken(google));
    expect(res.status).toBe(200);
    expect(await res.json<Json>()).toEqual({ identity: { type: "google", email: google.email, linked_at: expect.any(String) } });
    expect(await typesOf(token)).toContain("google");
    const signedIn = await signInWithIdToken(await googleIdToken(google));
    expect(signedIn.status).toBe(200);
    expect(await signedIn.json<Json>()).toMatchObject({ created: false, user: { id } });
    const rows = await pollUntil(() => auditRows("identity.linked", id), (r) => r.length > 0);
    expect(JSON.parse(rows[0]!.details!)).toEqual({ provider: "google" });
  });

  it("linking the same Google account again is idempotent: 200, one identity, one audit row", async () => {
    const { id, token } = await passwordAccount();
    const google = newGoogleAccount();
    const first = await (await linkGoogle(token, await googleIdToken(google))).json<Json>();
    const again = await linkGoogle(token, await googleIdToken(google));
    expect(again.status).toBe(200);
    expect(await again.json<Json>()).toEqual(first);
    expect((await identities(token)).filter((i) => i.type === "google")).toHaveLength(1);
    await pollUntil(() => auditRows("identity.linked", id), (r) => r.length > 0);
    expect(await auditRows("identity.linked", id)).toHaveLength(1);
  });

  it("a Google account linked to another user answers 409 identity_in_use and stays where it is", async () => {
    const owner = await googleAccount();
    const other = await passwordAccount();
    await expectProblem(await linkGoogle(other.token, await googleIdToken(owner.google)), 409, "identity_in_use");
    expect(await typesOf(other.token)).not.toContain("google");
    expect(await typesOf(owner.token)).toContain("google");
    const signedIn = await signInWithIdToken(await googleIdToken(owner.google));
    expect((await signedIn.json<Json>()).user.id).toBe(owner.id);
  });

  it("two users racing to link one Google account: exactly one wins", async () => {
    const [a, b] = await Promise.all([passwordAccount(), passwordAccount()]);
    const google = newGoogleAccount();
    const answers = await Promise.all([a, b, a, b].map(async (u) => linkGoogle(u.token, await googleIdToken(google))));
    const statuses = answers.map((r) => r.status);
    const winner = statuses[0] === 200 ? a : b;
    expect(statuses.filter((s) => s === 200)).toHaveLength(2); // the winner's two requests
    expect(statuses.filter((s) => s === 409)).toHaveLength(2);
    const row = await env.DB.prepare("SELECT user_id FROM identities WHERE provider = 'google' AND provider_user_id = ?").bind(google.sub).all<{ user_id: string }>();
    expect(row.results).toEqual([{ user_id: winner.id }]);
  });

  it("a bad ID token answers 401 invalid_google_token and links nothing", async () => {
    const { token } = await passwordAccount();
    const google = newGoogleAccount();
    const forged = await googleIdToken(google, {}, { key: new TextEncoder().encode("x".repeat(32)), alg: "HS256" });
    const wrongAudience = await googleIdToken(google, { aud: "someone-else.apps.googleusercontent.com" });
    const unverified = await googleIdToken(google, { email_verified: false });
    const expired = await googleIdToken(google, { exp: Math.floor(Date.now() / 1000) - 60 });
    for (const idToken of [forged, wrongAudience, unverified, expired, "not-a-jwt", ""]) {
      await expectProblem(await linkGoogle(token, idToken), 401, "invalid_google_token");
    }
    expect(await typesOf(token)).not.toContain("google");
  });

  it("needs a recent sign-in", async () => {
    const { token } = await passwordAccount();
    const idToken = await googleIdToken(newGoogleAccount());
    moveClock(11 * 60_000);
    await expectProblem(await linkGoogle(token, idToken), 403, "reauthentication_required");
  });
});

describe("DELETE /users/me/identities/{type}", () => {
  afterEach(restoreClock);

  it("google: the identity is removed; a Google sign-in no longer opens this account", async () => {
    const { id, token } = await passwordAccount();
    const google = await withGoogle(token);
    expect((await unlink(token, "google")).status).toBe(204);
    expect(await typesOf(token)).not.toContain("google");
    const signedIn = await (await signInWithIdToken(await googleIdToken(google))).json<Json>();
    expect(signedIn.user.id).not.toBe(id);
    expect(signedIn.created).toBe(true);
    const rows = await pollUntil(() => auditRows("identity.unlinked", id), (r) => r.length > 0);
    expect(JSON.parse(rows[0]!.details!)).toEqual({ type: "google" });
  });

  it("google: a Google account whose proved email is the account's own links again at its next Google sign-in (linking by verified email)", async () => {
    const { id, token, google } = await googleAccount();
    await env.DB.prepare("UPDATE users SET password_hash = 'set-elsewhere' WHERE id = ?").bind(id).run();
    expect((await unlink(token, "google")).status).toBe(204);
    expect(await typesOf(token)).not.toContain("google");
    const signedIn = await (await signInWithIdToken(await googleIdToken(google))).json<Json>();
    expect(signedIn).toMatchObject({ created: false, user: { id } });
    expect(await typesOf(token)).toContain("google");
  });

  it("phone: the number is cleared and kept nowhere (not in users, not in audit rows); it signs up afresh", async () => {
    const account = await phoneAccount();
    await registerPasskey(account.token); // another way in
    await pollUntil(() => auditRows("user.created", account.id), (r) => r.length > 0);
    expect((await unlink(account.token, "phone")).status).toBe(204);
    const row = await env.DB.prepare("SELECT phone, is_phone_verified FROM users WHERE id = ?").bind(account.id).first<Json>();
    expect(row).toEqual({ phone: null, is_phone_verified: 0 });
    await pollUntil(() => auditRows("identity.unlinked", account.id), (r) => r.length > 0);
    const digits = account.phone.slice(1);
    const leaks = await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_events WHERE details LIKE ? OR details LIKE ?")
      .bind(`%${account.phone}%`, `%${digits}%`)
      .first<{ n: number }>();
    expect(leaks?.n).toBe(0);
    expect(await typesOf(account.token)).toEqual(["passkey"]);
    const again = await (await phoneSignIn(account.phone)).json<Json>();
    expect(again.created).toBe(true);
    expect(again.user.id).not.toBe(account.id);
  });

  it("phone: an unproved number (no way in) is removed whatever else the user has", async () => {
    const { id, token } = await passkeyAccount(1);
    await env.DB.prepare("UPDATE users SET phone = ?, is_phone_verified = 0 WHERE id = ?").bind("+8801700000002", id).run();
    expect((await unlink(token, "phone")).status).toBe(204);
    const row = await env.DB.prepare("SELECT phone FROM users WHERE id = ?").bind(id).first<Json>();
    expect(row?.phone).toBeNull();
  });

  it("password: the hash is cleared, the password stops signing in, sessions stay open", async () => {
    const { id, token, email, password } = await passwordAccount();
    await withGoogle(token);
    expect((await unlink(token, "password")).status).toBe(204);
    const row = await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?").bind(id).first<Json>();
    expect(row?.password_hash).toBeNull();
    await expectProblem(await post("/auth/login", { email, password, device_id: "after-unlink" }), 401, "invalid_credentials");
    expect(await typesOf(token)).toEqual(["email_code", "google"]);
  });

  it("404 identity_not_found when the user has none of that type", async () => {
    const password = await passwordAccount();
    await expectProblem(await unlink(password.token, "google"), 404, "identity_not_found");
    await expectProblem(await unlink(password.token, "phone"), 404, "identity_not_found");
    const phone = await phoneAccount();
    await expectProblem(await unlink(phone.token, "password"), 404, "identity_not_found");
  });

  it("400 for a type that cannot be removed here", async () => {
    const { token } = await passwordAccount();
    for (const type of ["passkey", "email_code", "totp", "GOOGLE"]) await expectProblem(await unlink(token, type), 400, "validation_error");
  });

  it("needs a recent sign-in", async () => {
    const { token } = await passwordAccount();
    await withGoogle(token);
    moveClock(11 * 60_000);
    await expectProblem(await unlink(token, "google"), 403, "reauthentication_required");
    restoreClock();
    expect(await typesOf(token)).toContain("google");
  });
});
