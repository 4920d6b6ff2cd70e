import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newGoogleAccount, googleIdToken } from "../helpers/google-fake";
import {
  adminUser,
  authed,
  call,
  enrolTotp,
  expectProblem,
  expectRateLimited,
  JPEG,
  patchUser,
  PDF,
  phoneSignIn,
  PNG,
  pollUntil,
  post,
  registerPasskey,
  reject,
  signedInUser,
  submitOk,
  uniqueEmail,
  uniquePhone,
  type Json,
} from "../helpers";

async function exportOf(token: string): Promise<Json> {
  const res = await authed(token, "/users/me/export");
  expect(res.status).toBe(200);
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  expect(res.headers.get("Content-Type")).toContain("application/json");
  return res.json<Json>();
}

async function auditCount(userId: string, action: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_events WHERE (subject_id = ? OR actor_id = ?) AND action = ?")
    .bind(userId, userId, action)
    .first<{ n: number }>();
  return row!.n;
}

describe("GET /users/me/export", () => {
  it("holds every section for a user who has them: profile, Google identity, sessions, TOTP facts, a passkey, KYC with files, audit", async () => {
    const { email, tokens } = await signedInUser({ username: `exp_${crypto.randomUUID().slice(0, 8)}` }, "export-device");
    const userId = tokens.user.id as string;
    const google = newGoogleAccount(email);
    expect((await post("/auth/google", { id_token: await googleIdToken(google), device_id: "export-google" })).status).toBe(200);
    const first = await submitOk(tokens.access_token);
    const admin = await adminUser();
    expect((await reject(admin.token, first.id, "Blurred photo")).status).toBe(200);
    const second = await submitOk(tokens.access_token);
    const { passkey } = await registerPasskey(tokens.access_token, "Laptop");
    await enrolTotp(tokens.access_token);
    await pollUntil(() => auditCount(userId, "mfa.totp_enabled"), (n) => n > 0);

    const doc = await exportOf(tokens.access_token);
    expect(doc).toMatchObject({ format: "edge-auth.account-export.v1", user_id: userId });
    expect(Object.keys(doc)).toEqual([
      "format",
      "exported_at",
      "user_id",
      "profile",
      "identities",
      "sessions",
      "second_factors",
      "passkeys",
      "kyc_applications",
      "audit_events",
    ]);
    expect(doc.profile).toMatchObject({
      id: userId,
      email,
      unverified_email: null,
      username: tokens.user.username,
      full_name: "Test User",
      role: "CUSTOMER",
      is_active: true,
      has_password: true,
      kyc_status: "PENDING",
    });
    expect(doc.profile.created_at).toEqual(expect.any(String));
    expect(doc.profile.updated_at).toEqual(expect.any(String));
    expect(doc.profile.password_hash).toBeUndefined();

    expect(doc.identities).toEqual([{ provider: "google", provider_user_id: google.sub, email, linked_at: expect.any(String) }]);

    const devices = doc.sessions.map((s: Json) => s.device_id).sort();
    expect(devices).toEqual(["export-device", "export-google"]);
    expect(doc.sessions[0]).toEqual({
      id: expect.any(String),
      device_id: expect.any(String),
      device_name: null,
      user_agent: null,
      ip: null,
      created_at: expect.any(String),
      last_used_at: expect.any(String),
      expires_at: expect.any(String),
      revoked_at: null,
    });

    expect(doc.second_factors).toEqual({
      totp: { enabled: true, enrollment_pending: false, created_at: expect.any(String), confirmed_at: expect.any(String) },
      recovery_codes: { left: 10, used: 0, created_at: expect.any(String) },
    });

    expect(doc.passkeys).toEqual([
      { id: passkey.id, name: "Laptop", created_at: expect.any(String), last_used_at: null, backed_up: expect.any(Boolean), transports: expect.any(Array) },
    ]);

    expect(doc.kyc_applications.map((a: Json) => [a.id, a.status, a.decided_by, a.rejection_reason])).toEqual([
      [first.id, "REJECTED", "admin", "Blurred photo"],
      [second.id, "PENDING", null, null],
    ]);
    const documents = doc.kyc_applications[1].documents as Json[];
    expect(documents.map((d) => [d.kind, d.content_type, d.size])).toEqual([
      ["front", "image/png", PNG.byteLength],
      ["back", "image/jpeg", JPEG.byteLength],
      ["selfie", "application/pdf", PDF.byteLength],
    ]);
    const expiresAt = Date.parse(documents[0]!.download_expires_at);
    expect(expiresAt - Date.now()).toBeGreaterThan(9 * 60_000);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(10 * 60_000);

    // Each link downloads its own file, without a bearer token.
    for (const [d, bytes] of [[documents[0]!, PNG], [documents[1]!, JPEG], [documents[2]!, PDF]] as const) {
      const res = await call(d.download_url);
      expect(res.status).toBe(200);
      expect(res.headers.get("Content-Type")).toBe(d.content_type);
      expect(res.headers.get("Content-Disposition")).toMatch(/^attachment; filename="[0-9a-f-]{36}\.(png|jpg|pdf)"$/);
      expect(res.headers.get("Cache-Control")).toBe("private, no-store");
      expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    }

    const actions = doc.audit_events.map((e: Json) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["user.created", "login.succeeded", "kyc.submitted", "kyc.rejected", "mfa.totp_enabled"]));
    const rejected = doc.audit_events.find((e: Json) => e.action === "kyc.rejected");
    // The admin who decided is not named, nor is their address or browser shown.
    expect(rejected).toMatchObject({ actor: "another_user", about_self: true, ip: null, user_agent: null });
    expect(JSON.stringify(doc)).not.toContain(admin.id);
    await pollUntil(() => auditCount(userId, "account.exported"), (n) => n > 0);
    expect(await auditCount(userId, "account.exported")).toBe(1);
  });

  it("a phone user's export shows the unproved address apart, and no password", async () => {
    const typed = uniqueEmail("typed");
    const res = await phoneSignIn(uniquePhone(), { email: typed, first_name: "Rahim", role: "PROVIDER" });
    const tokens = await res.json<Json>();
    const doc = await exportOf(tokens.access_token);
    expect(doc.profile).toMatchObject({ email: null, unverified_email: typed, is_phone_verified: true, has_password: false, role: "PROVIDER" });
    expect(doc.identities).toEqual([]);
    expect(doc.passkeys).toEqual([]);
    expect(doc.kyc_applications).toEqual([]);
    expect(doc.second_factors).toEqual({
      totp: { enabled: false, enrollment_pending: false, created_at: null, confirmed_at: null },
      recovery_codes: { left: 0, used: 0, created_at: null },
    });
  });

  it("an admin's own actions on others appear without the other user's address", async () => {
    const admin = await adminUser();
    const target = await signedInUser();
    expect((await patchUser(admin.token, target.tokens.user.id, { role: "PROVIDER" })).status).toBe(200);
    await pollUntil(() => auditCount(admin.id, "admin.role_changed"), (n) => n > 0);
    const doc = await exportOf(admin.token);
    const changed = doc.audit_events.find((e: Json) => e.action === "admin.role_changed");
    expect(changed).toMatchObject({ actor: "self", about_self: false, details: { from: "CUSTOMER", to: "PROVIDER" } });
    expect(JSON.stringify(doc)).not.toContain(target.email);
  });

  it("at most 10 exports per user an hour, however many arrive at once; another user is not held back", async () => {
    const { tokens } = await signedInUser();
    const answers = await Promise.all(Array.from({ length: 14 }, () => authed(tokens.access_token, "/users/me/export")));
    expect(answers.filter((r) => r.status === 200)).toHaveLength(10);
    for (const res of answers.filter((r) => r.status !== 200)) await expectRateLimited(res, 3600);
    for (const res of answers.filter((r) => r.status === 200)) await res.arrayBuffer();
    const other = await signedInUser();
    await exportOf(other.tokens.access_token);
  });

  it("without a valid bearer token: 401", async () => {
    await expectProblem(await call("/users/me/export"), 401, "invalid_access_token");
    await expectProblem(await authed("not-a-token", "/users/me/export"), 401, "invalid_access_token");
  });
});
