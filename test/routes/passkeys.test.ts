// Passkeys through the routes, with a software authenticator (test/helpers/passkeys.ts): register,
// sign in with no username typed, list, rename, delete, and the passkey as the second step of a
// password sign-in.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  adminUser,
  auditReasons,
  authed,
  call,
  customerUser,
  expectProblem,
  login,
  passkeyCreationOptions,
  passkeySignIn,
  patchJson,
  post,
  registerPasskey,
  signedInUser,
  SoftwareAuthenticator,
  PASSWORD,
  type Json,
} from "../helpers";

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("passkey registration", () => {
  it("creation options ask for a resident key, prefer user verification, and exclude the user's passkeys", async () => {
    const { token, id } = await customerUser();
    const first = await passkeyCreationOptions(token);
    expect(first).toMatchObject({
      rp: { id: "localhost", name: "edge-auth" },
      authenticatorSelection: { residentKey: "required", requireResidentKey: true, userVerification: "preferred" },
      attestation: "none",
      excludeCredentials: [],
    });
    expect(first.user.id).toBe(btoa(id).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_"));
    const { authenticator } = await registerPasskey(token);
    const second = await passkeyCreationOptions(token);
    expect(second.excludeCredentials!.map((c) => c.id)).toEqual([authenticator.credentialId]);
  });

  it("registers a passkey (201 with its public fields) and lists it; audited", async () => {
    const { token, id } = await customerUser();
    const { passkey } = await registerPasskey(token, "Laptop");
    expect(passkey).toEqual({
      id: expect.any(String),
      name: "Laptop",
      created_at: expect.any(String),
      last_used_at: null,
      backed_up: true,
      transports: ["internal", "hybrid"],
    });
    const list = await (await authed(token, "/users/me/passkeys")).json<Json>();
    expect(list).toEqual({ passkeys: [passkey] });
    expect(await (await authed(token, "/users/me/mfa")).json<Json>()).toMatchObject({ passkeys: 1, totp: false });
    expect(await auditReasons("passkey.registered", id)).toHaveLength(1);
  });

  it("refuses an answer to no challenge, a challenge used twice, and a credential id already registered", async () => {
    const { token, id } = await customerUser();
    const authenticator = await SoftwareAuthenticator.create();
    const options = await passkeyCreationOptions(token);
    const made = await authenticator.register(options);
    const forged = await authenticator.register({ ...options, challenge: "bm90LWEtY2hhbGxlbmdlLWF0LWFsbA" });
    await expectProblem(await post("/users/me/passkeys", { credential: forged }, bearer(token)), 400, "invalid_passkey");
    expect((await post("/users/me/passkeys", { credential: made }, bearer(token))).status).toBe(201);
    await expectProblem(await post("/users/me/passkeys", { credential: made }, bearer(token)), 400, "invalid_passkey");

    // The same authenticator's credential, offered by another user for a challenge of their own.
    const other = await customerUser();
    const again = await authenticator.register(await passkeyCreationOptions(other.token));
    await expectProblem(await post("/users/me/passkeys", { credential: again }, bearer(other.token)), 400, "invalid_passkey");
    expect(await auditReasons("passkey.registration_failed", other.id)).toEqual(["credential_registered"]);
    expect(await auditReasons("passkey.registration_failed", id, 2)).toEqual(["challenge_unknown", "challenge_unknown"]);
  });

  it("refuses a registration made for another origin or relying party", async () => {
    const { token, id } = await customerUser();
    const authenticator = await SoftwareAuthenticator.create();
    for (const answer of [{ origin: "https://evil.example" }, { rpId: "evil.example" }]) {
      const credential = await authenticator.register(await passkeyCreationOptions(token), answer);
      await expectProblem(await post("/users/me/passkeys", { credential }, bearer(token)), 400, "invalid_passkey");
    }
    expect((await (await authed(token, "/users/me/passkeys")).json<Json>()).passkeys).toEqual([]);
    expect(await auditReasons("passkey.registration_failed", id, 2)).toEqual(["wrong_origin", "wrong_rp_id"]);
  });
});

describe("passkey sign-in", () => {
  it("signs in with no username typed: a passkey with user verification gets tokens at once", async () => {
    const { token, email } = await customerUser();
    const { authenticator, passkey } = await registerPasskey(token);
    const res = await passkeySignIn(authenticator);
    expect(res.status).toBe(200);
    const body = await res.json<Json>();
    expect(body.user.email).toBe(email);
    expect(body.access_token).toBeTypeOf("string");
    expect(body.mfa_required).toBeUndefined();
    const [listed] = (await (await authed(token, "/users/me/passkeys")).json<Json>()).passkeys;
    expect(listed.id).toBe(passkey.id);
    expect(listed.last_used_at).toBeTypeOf("string");
  });

  it("request options name no credential and carry a challenge_id", async () => {
    const res = await post("/auth/passkey/options", {});
    const options = await res.json<Json>();
    expect(options).toMatchObject({ rpId: "localhost", userVerification: "preferred", allowCredentials: [] });
    expect(options.challenge_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
  });

  it("a password sign-in of a user with a passkey asks for it, and the passkey finishes it", async () => {
    const { tokens, email } = await signedInUser();
    const { authenticator } = await registerPasskey(tokens.access_token);
    const challenge = await login(email, PASSWORD, "pw-device");
    expect(challenge).toMatchObject({ mfa_required: true, methods: ["passkey"] });
    const options = await (await post("/auth/mfa/passkey/options", { mfa_token: challenge.mfa_token })).json<Json>();
    expect(options.allowCredentials.map((c: Json) => c.id)).toEqual([authenticator.credentialId]);
    const credential = await authenticator.assert(options as { challenge: string }, { uv: false });
    const res = await post("/auth/mfa/verify", { mfa_token: challenge.mfa_token, method: "passkey", credential });
    expect(res.status).toBe(200);
    expect((await res.json<Json>()).user.email).toBe(email);
    // The mfa_token is spent with it.
    await expectProblem(await post("/auth/mfa/passkey/options", { mfa_token: challenge.mfa_token }), 401, "invalid_mfa_token");
  });

  it("a passkey without user verification is one factor: a user with TOTP is asked for it", async () => {
    const admin = await adminUser();
    const { authenticator } = await registerPasskey(admin.token);
    const res = await passkeySignIn(authenticator, { uv: false });
    expect(await res.json<Json>()).toMatchObject({ mfa_required: true, methods: ["totp", "recovery_code"] });
    expect(await (await authed(admin.token, "/users/me/mfa")).json<Json>()).toMatchObject({ totp: true, passkeys: 1 });
  });

  it("the mfa body keeps `code` required for codes and `credential` for passkeys", async () => {
    await expectProblem(await post("/auth/mfa/verify", { mfa_token: "x", method: "totp" }), 400, "validation_error");
    await expectProblem(await post("/auth/mfa/verify", { mfa_token: "x", method: "passkey", code: "123456" }), 400, "validation_error");
    await expectProblem(await post("/auth/mfa/passkey/options", { mfa_token: "not-a-token" }), 401, "invalid_mfa_token");
  });

  it("reauthentication options list the user's own passkeys, with a challenge_id", async () => {
    const { token } = await customerUser();
    const { authenticator } = await registerPasskey(token);
    const res = await authed(token, "/auth/reauthenticate/options", { method: "POST" });
    const options = await res.json<Json>();
    expect(options.allowCredentials.map((c: Json) => c.id)).toEqual([authenticator.credentialId]);
    expect(options.challenge_id).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("managing passkeys", () => {
  it("renames and deletes the user's own; another user's is 404 passkey_not_found", async () => {
    const owner = await customerUser();
    const other = await customerUser();
    const { passkey } = await registerPasskey(owner.token);
    const renamed = await patchJson(owner.token, `/users/me/passkeys/${passkey.id}`, { name: "Phone" });
    expect(await renamed.json<Json>()).toMatchObject({ id: passkey.id, name: "Phone" });

    await expectProblem(await patchJson(other.token, `/users/me/passkeys/${passkey.id}`, { name: "Mine" }), 404, "passkey_not_found");
    await expectProblem(await authed(other.token, `/users/me/passkeys/${passkey.id}`, { method: "DELETE" }), 404, "passkey_not_found");
    await expectProblem(await authed(owner.token, `/users/me/passkeys/${crypto.randomUUID()}`, { method: "DELETE" }), 404, "passkey_not_found");

    expect((await authed(owner.token, `/users/me/passkeys/${passkey.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await (await authed(owner.token, "/users/me/passkeys")).json<Json>()).passkeys).toEqual([]);
    expect(await auditReasons("passkey.renamed", owner.id)).toHaveLength(1);
    expect(await auditReasons("passkey.deleted", owner.id)).toHaveLength(1);
  });

  it("a deleted passkey no longer signs in", async () => {
    const { token } = await customerUser();
    const { authenticator, passkey } = await registerPasskey(token);
    expect((await authed(token, `/users/me/passkeys/${passkey.id}`, { method: "DELETE" })).status).toBe(204);
    await expectProblem(await passkeySignIn(authenticator), 401, "unknown_passkey");
  });

  it("an administrator's MFA reset removes the user's passkeys too", async () => {
    const admin = await adminUser();
    const { token, id } = await customerUser();
    const { authenticator } = await registerPasskey(token);
    expect((await authed(admin.token, `/admin/users/${id}/mfa/reset`, { method: "POST" })).status).toBeLessThan(300);
    expect((await (await authed(token, "/users/me/mfa")).json<Json>()).passkeys).toBe(0);
    await expectProblem(await passkeySignIn(authenticator), 401, "unknown_passkey");
  });

  it("the passkeys table holds public data only", async () => {
    const { token, id } = await customerUser();
    await registerPasskey(token);
    const row = await env.DB.prepare("SELECT * FROM passkeys WHERE user_id = ?").bind(id).first<Json>();
    expect(Object.keys(row!).sort()).toEqual(
      ["aaguid", "backed_up", "counter", "created_at", "credential_id", "device_type", "id", "last_used_at", "name", "public_key", "transports", "user_id"],
    );
    expect(await call("/users/me/passkeys")).toHaveProperty("status", 401);
  });
});
