// Invariant: a deleted account is gone. After DELETE /users/me (or an admin's DELETE
// /admin/users/{id}) the old access token, refresh token, KYC document link and password all fail;
// no D1 row, KV entry or Durable Object of the user or their addresses holds their email, phone or
// names; audit rows keep only the user id; the email and phone sign up again as a new account. Only a
// recent sign-in deletes, the last active admin is never deleted (also when two admins delete each
// other at once), and refreshes racing the deletion leave no working token.
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  adminUser,
  auditDetailsOf,
  confirmEmailChange,
  confirmPhoneChange,
  emailChangeCode,
  lastSmsCode,
  phoneUser,
  requestEmailChange,
  requestPhoneChange,
  authed,
  customerUser,
  deleteMe,
  deleteUser,
  expectAccessRefused,
  expectNothingHolds,
  expectProblem,
  expectRefreshRefused,
  loginOutcome,
  moveClock,
  objectKeysOf,
  patchMe,
  phoneSignIn,
  pollUntil,
  post,
  refreshesRacing,
  restoreClock,
  sendOtp,
  signedInUser,
  submitOk,
  uniquePhone,
  uniqueUsername,
  type Json,
} from "../helpers";

afterEach(restoreClock);

/**
 * A user who left personal data everywhere: names and username, a proved phone with a code waiting
 * in its object, a KYC application with files in R2, a password-reset link in KV, two sessions.
 */
async function userWithEverything() {
  const tag = crypto.randomUUID().slice(0, 8);
  const names = { full_name: `Zelda Quill ${tag}`, first_name: `Zelda${tag}`, last_name: `Quill${tag}`, username: uniqueUsername("Zq_") };
  const user = await signedInUser({ full_name: names.full_name }, "deletion-device");
  const id = user.tokens.user.id as string;
  const token = user.tokens.access_token as string;
  expect((await patchMe(token, { first_name: names.first_name, last_name: names.last_name, username: names.username })).status).toBe(200);
  const phone = uniquePhone();
  await env.DB.prepare("UPDATE users SET phone = ?, is_phone_verified = 1 WHERE id = ?").bind(phone, id).run();
  const phoneSession = await phoneSignIn(phone);
  expect(phoneSession.status).toBe(200);
  expect((await phoneSession.json<Json>()).user.id).toBe(id);
  await sendOtp(phone);
  const application = await submitOk(token);
  expect((await post("/auth/password-reset/request", { email: user.email })).status).toBe(202);
  // Audit rows are written after the answers: the erasure is tried on rows that have landed.
  await pollUntil(
    () => env.DB.prepare("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'password.reset_requested' AND subject_id = ?").bind(id).first<{ n: number }>(),
    (row) => row!.n > 0,
  );
  return { ...user, id, token, phone, names, application, personal: [user.email, phone, ...Object.values(names), names.username.toLowerCase()] };
}

const objectsOf = (u: { id: string; email: string; phone: string }) => [`user:${u.id}`, `email:${u.email}`, `phone:${u.phone}`];

describe("DELETE /users/me", () => {
  it("erases everything and nothing the user held works any more", async () => {
    const admin = await adminUser();
    const u = await userWithEverything();
    const documentId = u.application.documents[0].id as string;
    expect((await authed(admin.token, `/admin/kyc/${u.application.id}/documents/${documentId}`)).status).toBe(200);
    expect(await objectKeysOf(u.id)).toHaveLength(3);

    const res = await deleteMe(u.token);
    expect(res.status).toBe(204);

    await expectNothingHolds(u.personal, objectsOf(u));
    expect(await objectKeysOf(u.id)).toEqual([]);
    const left = await env.DB.prepare("SELECT (SELECT COUNT(*) FROM users WHERE id = ?1) AS users, (SELECT COUNT(*) FROM deletions WHERE user_id = ?1) AS marks")
      .bind(u.id)
      .first<{ users: number; marks: number }>();
    expect(left).toEqual({ users: 0, marks: 0 });
    // Audit rows keep the user id, and nothing else of theirs.
    const audit = await env.DB.prepare("SELECT action, ip, user_agent FROM audit_events WHERE subject_id = ?1 OR actor_id = ?1").bind(u.id).all<Json>();
    expect(audit.results.map((r) => r.action)).toEqual(expect.arrayContaining(["user.created", "password.reset_requested", "account.deleted"]));
    expect(audit.results.filter((r) => r.ip !== null || r.user_agent !== null)).toEqual([]);

    await expectAccessRefused(u.token);
    await expectRefreshRefused(u.tokens.refresh_token, u.deviceId);
    expect(await loginOutcome(u.email, u.password)).toEqual({ status: 401, code: "invalid_credentials" });
    await expectProblem(await authed(admin.token, `/admin/kyc/${u.application.id}/documents/${documentId}`), 404, "document_not_found");

    // The email and the phone are free: each makes a new account.
    const again = await signedInUser({ email: u.email }, "new-device");
    expect(again.tokens.user.id).not.toBe(u.id);
    const byPhone = await phoneSignIn(u.phone);
    expect(byPhone.status).toBe(200);
    const phoneUser = (await byPhone.json<Json>()).user;
    expect([u.id, again.tokens.user.id]).not.toContain(phoneUser.id);
  });

  it("a phone-only account: the number is erased everywhere and signs up again as a new account", async () => {
    const phone = uniquePhone();
    const first = await phoneSignIn(phone);
    expect(first.status).toBe(200);
    const tokens = await first.json<Json>();
    await sendOtp(phone);
    expect((await deleteMe(tokens.access_token)).status).toBe(204);
    await expectNothingHolds([phone], [`user:${tokens.user.id}`, `phone:${phone}`]);
    await expectRefreshRefused(tokens.refresh_token, "phone-app");
    const again = await phoneSignIn(phone);
    expect(again.status).toBe(200);
    expect((await again.json<Json>()).user.id).not.toBe(tokens.user.id);
  });

  it("an account that changed its email and phone: the audit rows of the changes keep neither address", async () => {
    const user = await phoneUser();
    const email = `changed-${crypto.randomUUID().slice(0, 8)}@example.com`;
    expect((await requestEmailChange(user.token, email)).status).toBe(202);
    expect((await confirmEmailChange(user.token, emailChangeCode(email))).status).toBe(200);
    const next = uniquePhone();
    expect((await requestPhoneChange(user.token, next)).status).toBe(200);
    expect((await confirmPhoneChange(user.token, lastSmsCode(next))).status).toBe(200);
    await auditDetailsOf("email.changed", user.id);
    await auditDetailsOf("phone.changed", user.id);

    expect((await deleteMe(user.token)).status).toBe(204);
    await expectNothingHolds([email, user.phone, next], [`user:${user.id}`, `email:${email}`, `phone:${next}`]);
  });

  it("needs a recent sign-in: a token signed in 11 minutes ago deletes nothing", async () => {
    const u = await customerUser();
    moveClock(11 * 60_000);
    await expectProblem(await deleteMe(u.token), 403, "reauthentication_required");
    const row = await env.DB.prepare("SELECT is_active FROM users WHERE id = ?").bind(u.id).first<{ is_active: number }>();
    expect(row).toEqual({ is_active: 1 });
  });

  it("a burst of refreshes racing the deletion leaves no working token", async () => {
    const u = await customerUser();
    const { revocation, issued } = await refreshesRacing(u.tokens.refresh_token, u.deviceId, () => deleteMe(u.token));
    expect(revocation.status).toBe(204);
    for (const pair of issued) {
      await expectRefreshRefused(pair.refresh_token, u.deviceId);
      await expectAccessRefused(pair.access_token);
    }
    await expectAccessRefused(u.token);
    expect(await loginOutcome(u.email, u.password)).toEqual({ status: 401, code: "invalid_credentials" });
  });

  it("twice at once: both answer 204 or the second finds the token revoked, and the account is gone", async () => {
    const u = await customerUser();
    const answers = await Promise.all([deleteMe(u.token), deleteMe(u.token), deleteMe(u.token)]);
    for (const res of answers) {
      if (res.status !== 204) await expectProblem(res, 401, "invalid_access_token");
    }
    expect(answers.filter((r) => r.status === 204).length).toBeGreaterThan(0);
    await expectNothingHolds([u.email], [`user:${u.id}`, `email:${u.email}`]);
  });
});

describe("DELETE /admin/users/{id}", () => {
  it("erases the account like DELETE /users/me, and is audited with the admin as actor", async () => {
    const admin = await adminUser();
    const u = await userWithEverything();
    expect((await deleteUser(admin.token, u.id)).status).toBe(204);
    await expectNothingHolds(u.personal, objectsOf(u));
    await expectAccessRefused(u.token);
    await expectRefreshRefused(u.tokens.refresh_token, u.deviceId);

    const events = await pollUntil(
      async () => (await (await authed(admin.token, `/admin/audit?user_id=${u.id}`)).json<Json>()).events as Json[],
      (e) => e.some((x) => x.action === "admin.user_deleted"),
    );
    expect(events.find((e) => e.action === "admin.user_deleted")).toMatchObject({ actor_id: admin.id, subject_id: u.id });
    expect(events.find((e) => e.action === "account.deleted")).toMatchObject({ actor_id: admin.id, subject_id: u.id, ip: null, details: { by: "admin" } });
    expect(JSON.stringify(events)).not.toContain(u.email);
  });

  it("answers 404 for an unknown id", async () => {
    const admin = await adminUser();
    await expectProblem(await deleteUser(admin.token, crypto.randomUUID()), 404, "user_not_found");
  });

  it("a deleted user cannot be brought back by PATCH (it is not found)", async () => {
    const admin = await adminUser();
    const u = await customerUser();
    expect((await deleteUser(admin.token, u.id)).status).toBe(204);
    await expectProblem(await authed(admin.token, `/admin/users/${u.id}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ is_active: true }),
    }), 404, "user_not_found");
  });
});

describe("the last active admin", () => {
  // Every test here starts with no admin but its own (storage is shared by the tests of a file).
  beforeEach(async () => {
    await env.DB.prepare("UPDATE users SET role = 'CUSTOMER' WHERE role = 'ADMIN'").run();
  });

  it("cannot delete their own account, by either route", async () => {
    const admin = await adminUser();
    await expectProblem(await deleteMe(admin.token), 409, "last_admin");
    await expectProblem(await deleteUser(admin.token, admin.id), 409, "last_admin");
    expect((await authed(admin.token, "/admin/users")).status).toBe(200);
    const marks = await env.DB.prepare("SELECT COUNT(*) AS n FROM deletions WHERE user_id = ?").bind(admin.id).first<{ n: number }>();
    expect(marks!.n).toBe(0);
  });

  it("with another admin, may delete themselves; the other is then the last", async () => {
    const a = await adminUser();
    const b = await adminUser();
    expect((await deleteMe(a.token)).status).toBe(204);
    await expectProblem(await deleteUser(b.token, b.id), 409, "last_admin");
  });

  it("two admins deleting each other at once leave exactly one", async () => {
    for (let round = 0; round < 4; round++) {
      await env.DB.prepare("UPDATE users SET role = 'CUSTOMER' WHERE role = 'ADMIN'").run();
      const a = await adminUser();
      const b = await adminUser();
      const answers = await Promise.all([deleteUser(a.token, b.id), deleteUser(b.token, a.id)]);
      const outcomes: number[] = [];
      for (const res of answers) {
        if (res.status === 204) outcomes.push(204);
        else {
          const body = await res.json<Json>();
          expect([{ status: 409, code: "last_admin" }, { status: 401, code: "invalid_access_token" }, { status: 403, code: "forbidden" }]).toContainEqual({
            status: res.status,
            code: body.code,
          });
          outcomes.push(res.status);
        }
      }
      expect(outcomes.filter((s) => s === 204)).toHaveLength(1);
      const admins = await env.DB.prepare("SELECT id FROM users WHERE role = 'ADMIN' AND is_active = 1").all<{ id: string }>();
      expect(admins.results).toHaveLength(1);
    }
  });
});
