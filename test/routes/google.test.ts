import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { AppError } from "../../src/errors";
import { signInWithGoogleIdToken } from "../../src/domain/google";
import {
  browserSignIn,
  CLIENT_ID,
  FRONTEND_CALLBACK,
  GOOGLE_AUTH_URL,
  googleCallback,
  googleCodeFor,
  googleIdToken,
  newGoogleAccount,
  REDIRECT_URI,
  signInWithIdToken,
  startGoogle,
  tokenRequests,
  tokenAuthorizations,
} from "../helpers/google-fake";
import { authed, call, expectProblem, login, NO_META, post, signedInUser, testDeps, type Json } from "../helpers";

async function identitiesOf(sub: string) {
  const { results } = await env.DB.prepare("SELECT user_id, email FROM identities WHERE provider = 'google' AND provider_user_id = ?")
    .bind(sub)
    .all<{ user_id: string; email: string }>();
  return results;
}

async function s256(verifier: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  return btoa(String.fromCharCode(...digest)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

describe("POST /auth/google (ID token)", () => {
  it("a first sign-in creates a verified account from the token; the next one finds it", async () => {
    const account = newGoogleAccount();
    const first = await signInWithIdToken(await googleIdToken(account));
    expect(first.status).toBe(200);
    expect(first.headers.get("Cache-Control")).toBe("no-store");
    const body = await first.json<Json>();
    expect(body).toMatchObject({ token_type: "Bearer", created: true });
    expect(body.access_token).toEqual(expect.any(String));
    expect(body.refresh_token).toEqual(expect.any(String));
    expect(body.user).toMatchObject({
      email: account.email,
      is_email_verified: true,
      full_name: "Ada Lovelace",
      first_name: "Ada",
      last_name: "Lovelace",
      profile_picture: "https://lh3.googleusercontent.com/a/fake-picture",
      role: "CUSTOMER",
    });
    const row = await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?").bind(body.user.id).first<{ password_hash: string | null }>();
    expect(row!.password_hash).toBeNull();
    expect(await identitiesOf(account.sub)).toEqual([{ user_id: body.user.id, email: account.email }]);

    const second = await signInWithIdToken(await googleIdToken(account), "other-device");
    expect(second.status).toBe(200);
    const again = await second.json<Json>();
    expect(again.created).toBe(false);
    expect(again.user.id).toBe(body.user.id);
    expect((await authed(again.access_token, "/users/me")).status).toBe(200);
  });

  it("links to an existing email+password account by its verified email; the password still works", async () => {
    const { email, password, tokens } = await signedInUser();
    const account = newGoogleAccount(email);
    const res = await signInWithIdToken(await googleIdToken(account));
    expect(res.status).toBe(200);
    const body = await res.json<Json>();
    expect(body.created).toBe(false);
    expect(body.user.id).toBe(tokens.user.id);
    expect(await identitiesOf(account.sub)).toEqual([{ user_id: tokens.user.id, email }]);

    const again = await login(email, password, "laptop");
    expect(again.user.id).toBe(tokens.user.id);
  });

  it("a changed Google email with the same sub signs into the same account", async () => {
    const account = newGoogleAccount();
    const first = await (await signInWithIdToken(await googleIdToken(account))).json<Json>();
    const moved = { sub: account.sub, email: `moved-${account.email}` };
    const res = await signInWithIdToken(await googleIdToken(moved));
    expect(res.status).toBe(200);
    const body = await res.json<Json>();
    expect(body.created).toBe(false);
    expect(body.user.id).toBe(first.user.id);
    // The account keeps the address it was proved with; Google's new one is not copied over.
    expect(body.user.email).toBe(account.email);
  });

  it("a deactivated user is refused with 403 account_disabled", async () => {
    const account = newGoogleAccount();
    const first = await (await signInWithIdToken(await googleIdToken(account))).json<Json>();
    await env.DB.prepare("UPDATE users SET is_active = 0 WHERE id = ?").bind(first.user.id).run();
    await expectProblem(await signInWithIdToken(await googleIdToken(account)), 403, "account_disabled");
  });

  it("without a configured client id the sign-in is 503 provider_not_configured", async () => {
    const { deps } = testDeps();
    const unconfigured = { ...deps, config: { ...deps.config, google: undefined } };
    const account = newGoogleAccount();
    const attempt = signInWithGoogleIdToken(
      unconfigured,
      { idToken: await googleIdToken(account), device: { deviceId: "d", deviceName: null } },
      NO_META,
      Date.now(),
    );
    await expect(attempt).rejects.toBeInstanceOf(AppError);
    await expect(attempt).rejects.toMatchObject({ code: "provider_not_configured", status: 503 });
  });
});

describe("browser flow: /auth/google/start → Google → /auth/google/callback → /auth/google/exchange", () => {
  it("redirects to Google with PKCE S256, state and nonce, and hands the front end a one-time code in the fragment", async () => {
    const account = newGoogleAccount();
    const before = tokenRequests.length;
    const { started, res, location, exchangeCode } = await browserSignIn(account, "browser-e2e");

    // the redirect to Google
    const google = started.location;
    expect(`${google.origin}${google.pathname}`).toBe(GOOGLE_AUTH_URL);
    expect(google.searchParams.get("client_id")).toBe(CLIENT_ID);
    expect(google.searchParams.get("response_type")).toBe("code");
    expect(google.searchParams.get("redirect_uri")).toBe(REDIRECT_URI);
    expect(google.searchParams.get("scope")).toBe("openid email profile");
    expect(google.searchParams.get("code_challenge_method")).toBe("S256");
    expect(google.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(started.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(started.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(started.res.headers.get("Set-Cookie")).toMatch(/^__Host-google-state=[0-9a-f]{64};/);

    // the code was redeemed with the verifier whose S256 is the challenge sent to Google
    expect(tokenRequests.length).toBe(before + 1);
    const tokenRequest = tokenRequests.at(-1)!;
    expect(tokenRequest.get("grant_type")).toBe("authorization_code");
    expect(tokenRequest.get("redirect_uri")).toBe(REDIRECT_URI);
    expect(await s256(tokenRequest.get("code_verifier")!)).toBe(google.searchParams.get("code_challenge"));
    // a confidential web client authenticates with its secret (HTTP Basic, RFC 6749 §2.3.1)
    expect(tokenAuthorizations.at(-1)).toBe(`Basic ${btoa(`${env.GOOGLE_CLIENT_ID}:test-google-client-secret`)}`);

    // the redirect to the front end: a fragment only, nothing token-like in a query
    expect(location.startsWith(`${FRONTEND_CALLBACK}#code=`)).toBe(true);
    expect(new URL(location).search).toBe("");
    expect(location).not.toMatch(/eyJ|access_token|refresh_token|id_token/);
    expect(exchangeCode).toMatch(/^[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/);
    expect(res.headers.get("Set-Cookie")).toMatch(/^__Host-google-state=;.*Max-Age=0/);
    expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");

    const exchanged = await post("/auth/google/exchange", { code: exchangeCode, device_id: "browser-e2e" });
    expect(exchanged.status).toBe(200);
    expect(exchanged.headers.get("Cache-Control")).toBe("no-store");
    const body = await exchanged.json<Json>();
    expect(body).toMatchObject({ token_type: "Bearer", created: true, user: { email: account.email, is_email_verified: true } });
    expect((await authed(body.access_token, "/users/me")).status).toBe(200);

    // once
    await expectProblem(await post("/auth/google/exchange", { code: exchangeCode, device_id: "browser-e2e" }), 400, "invalid_code");
  });

  it("the flow signs a returning Google user into the same account (created false)", async () => {
    const account = newGoogleAccount();
    const first = await (await signInWithIdToken(await googleIdToken(account))).json<Json>();
    const { exchangeCode } = await browserSignIn(account, "browser-2");
    const body = await (await post("/auth/google/exchange", { code: exchangeCode, device_id: "browser-2" })).json<Json>();
    expect(body).toMatchObject({ created: false, user: { id: first.user.id } });
  });

  it("the exchange code only works for the device that started the flow", async () => {
    const { exchangeCode } = await browserSignIn(newGoogleAccount(), "browser-3");
    await expectProblem(await post("/auth/google/exchange", { code: exchangeCode, device_id: "someone-else" }), 400, "invalid_code");
    await expectProblem(await post("/auth/google/exchange", { code: `${crypto.randomUUID()}.${"A".repeat(43)}`, device_id: "x" }), 400, "invalid_code");
    await expectProblem(await post("/auth/google/exchange", { code: "garbage", device_id: "x" }), 400, "invalid_code");
  });

  it("start refuses a redirect_uri outside the configured front end", async () => {
    const res = await call(`/auth/google/start?device_id=d&redirect_uri=${encodeURIComponent("https://evil.example/auth/callback")}`, {
      redirect: "manual",
    });
    const body = await expectProblem(res, 400, "validation_error");
    expect(body.errors).toEqual([expect.objectContaining({ path: "redirect_uri" })]);
    expect(res.headers.get("Set-Cookie")).toBeNull();
    await expectProblem(await call("/auth/google/start", { redirect: "manual" }), 400, "validation_error");
  });

  it("a page of the front end may be named as redirect_uri", async () => {
    const target = `${FRONTEND_CALLBACK.replace(/\/auth\/callback$/, "")}/welcome?from=google`;
    const started = await startGoogle("browser-4", `&redirect_uri=${encodeURIComponent(target)}`);
    const code = googleCodeFor(await googleIdToken(newGoogleAccount(), { nonce: started.nonce }));
    const res = await googleCallback({ code, state: started.state }, started.cookie);
    expect(res.status).toBe(302);
    expect(res.headers.get("Location")!.startsWith(`${target}#code=`)).toBe(true);
  });

  it("a declined consent goes back to the front end as #error=access_denied", async () => {
    const started = await startGoogle("browser-5");
    const res = await googleCallback({ error: "access_denied", state: started.state }, started.cookie);
    expect(res.status).toBe(302);
    expect(res.headers.get("Location")).toBe(`${FRONTEND_CALLBACK}#error=access_denied`);
  });

  it("the routes are in the OpenAPI document under the Google tag", async () => {
    const doc = await (await call("/openapi.json")).json<Json>();
    for (const path of ["/api/v1/auth/google", "/api/v1/auth/google/start", "/api/v1/auth/google/callback", "/api/v1/auth/google/exchange"]) {
      const operations = Object.values(doc.paths[path] ?? {}) as Json[];
      expect(operations.length, path).toBeGreaterThan(0);
      for (const op of operations) expect(op.tags).toEqual(["Google"]);
    }
  });
});
