import { describe, expect, it } from "vitest";
import { authed, call, expectProblem, lastCode, post, signedInUser, registerUser, login } from "../helpers";

describe("email and password lifecycle", () => {
  it("registers, verifies, logs in, refreshes, lists sessions and logs out", async () => {
    const { email, password } = await registerUser();
    const verify = await post("/auth/verify-email", { email, code: lastCode(email), device_id: "phone-1" });
    expect(verify.status).toBe(200);
    const first = await verify.json<any>();
    expect(first.token_type).toBe("Bearer");
    expect(first.expires_in).toBe(900);
    expect(first.user).toMatchObject({ email, is_email_verified: true, role: "CUSTOMER", kyc_status: "NOT_SUBMITTED" });

    const tokens = await login(email, password, "laptop-1");
    const me = await authed(tokens.access_token, "/users/me");
    expect(me.status).toBe(200);
    expect((await me.json<any>()).email).toBe(email);

    const refreshed = await post("/auth/refresh", { refresh_token: tokens.refresh_token, device_id: "laptop-1" });
    expect(refreshed.status).toBe(200);
    const pair = await refreshed.json<any>();
    expect(pair.refresh_token).not.toBe(tokens.refresh_token);
    expect(pair.user).toBeUndefined();

    const list = await authed(pair.access_token, "/auth/sessions");
    const { sessions } = await list.json<any>();
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((s: any) => s.current)).toHaveLength(1);

    const out = await post("/auth/logout", { refresh_token: pair.refresh_token });
    expect(out.status).toBe(200);
    expect(await out.json()).toEqual({ message: "Logged out successfully" });
    await expectProblem(await authed(pair.access_token, "/users/me"), 401, "invalid_access_token");
    // the other session still works
    expect((await authed(first.access_token, "/users/me")).status).toBe(200);

    const all = await authed(first.access_token, "/auth/logout-all", { method: "POST" });
    expect(await all.json()).toEqual({ message: "All sessions revoked", revoked: 1 });
    await expectProblem(await authed(first.access_token, "/users/me"), 401, "invalid_access_token");
    await expectProblem(
      await post("/auth/refresh", { refresh_token: first.refresh_token, device_id: "phone-1" }),
      401,
      "invalid_refresh_token",
    );
  });

  it("serves JWKS and OpenAPI", async () => {
    const jwks = await (await call("/.well-known/jwks.json")).json<any>();
    expect(jwks.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
    expect(jwks.keys[0].d).toBeUndefined();
    const doc = await (await call("/openapi.json")).json<any>();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toContain("/api/v1/auth/login");
  });

  it("uses a signed in helper", async () => {
    const { tokens } = await signedInUser();
    expect((await authed(tokens.access_token, "/users/me")).status).toBe(200);
  });
});
