// Invariant: only an ID token signed with one of Google's published keys (RS256), issued by Google
// for this service's client id, unexpired, naming a subject and an email that Google marks verified
// (email_verified === true), signs anyone in. Anything else (another key, another alg, alg none,
// wrong aud or iss, expired, unverified or missing email, garbage, an unreachable key set) answers
// 401 invalid_google_token and creates nothing. An email Google has not verified never links to an
// existing account, and a burst of first sign-ins for one Google account makes exactly one user.
import { env } from "cloudflare:workers";
import { createRemoteJWKSet, customFetch, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { verifyGoogleIdToken } from "../../src/domain/google";
import { insertUser } from "../../src/storage/users";
import { database } from "../../src/storage/db";
import {
  browserSignIn,
  googleCallback,
  googleCodeFor,
  googleIdToken,
  googlePublicJwk,
  newGoogleAccount,
  signInWithIdToken,
  startGoogle,
  type GoogleAccount,
} from "../helpers/google-fake";
import {
  base64urlJson,
  expectProblem,
  lastCode,
  nowSeconds,
  post,
  registerUser,
  signedInUser,
  uniquePhone,
  userRows,
  type Json,
} from "../helpers";

const google = loadConfig(env).google!;
const otherKeys = await generateKeyPair("RS256", { extractable: true });

const unsigned = (header: Json, payload: Json) =>
  `${base64urlJson(header)}.${base64urlJson(payload)}.`;

async function footprint(account: GoogleAccount) {
  const identities = await env.DB.prepare("SELECT COUNT(*) AS n FROM identities WHERE provider_user_id = ?")
    .bind(account.sub)
    .first<{ n: number }>();
  return { users: await userRows(account.email), identities: identities!.n };
}

const FORGERIES: [string, (a: GoogleAccount) => Promise<string>][] = [
  ["signed with another RSA key under Google's kid", (a) => googleIdToken(a, {}, { key: otherKeys.privateKey })],
  ["signed with another RSA key under an unknown kid", (a) => googleIdToken(a, {}, { key: otherKeys.privateKey, kid: "rotated" })],
  ["for another client id (aud)", (a) => googleIdToken(a, { aud: "someone-else.apps.googleusercontent.com", azp: undefined })],
  ["with an audience list that lacks our client id", (a) => googleIdToken(a, { aud: ["other-client"] })],
  ["from another issuer", (a) => googleIdToken(a, { iss: "https://accounts.evil.example" })],
  ["expired", (a) => googleIdToken(a, { iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 })],
  ["with email_verified false", (a) => googleIdToken(a, { email_verified: false })],
  ["with email_verified \"true\" (a string)", (a) => googleIdToken(a, { email_verified: "true" })],
  ["without email_verified", (a) => googleIdToken(a, { email_verified: undefined })],
  ["without sub", (a) => googleIdToken(a, { sub: undefined })],
  ["without email", (a) => googleIdToken(a, { email: undefined })],
  ["without exp", (a) => googleIdToken(a, { exp: undefined })],
  ["with alg none", async (a) => unsigned({ alg: "none", typ: "JWT" }, { iss: "https://accounts.google.com", aud: google.clientId, sub: a.sub, email: a.email, email_verified: true, iat: nowSeconds(), exp: nowSeconds() + 3600 })],
  [
    "HS256 keyed with Google's public key",
    (a) => googleIdToken(a, {}, { alg: "HS256", key: new TextEncoder().encode(JSON.stringify(googlePublicJwk)) }),
  ],
  ["with a tampered payload", async (a) => {
    const [h, , s] = (await googleIdToken(a)).split(".");
    return `${h}.${base64urlJson({ sub: a.sub, email: a.email, email_verified: true, aud: google.clientId })}.${s}`;
  }],
  ["garbage", async () => "garbage"],
  ["empty", async () => ""],
  ["three dots of nothing", async () => "a.b.c"],
  ["oversized", async () => "e".repeat(20_000)],
];

describe("Google ID tokens that must not sign in", () => {
  it.each(FORGERIES)("a token %s answers 401 invalid_google_token and creates nothing", async (_name, make) => {
    const account = newGoogleAccount();
    const res = await signInWithIdToken(await make(account));
    await expectProblem(res, 401, "invalid_google_token");
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(await footprint(account)).toEqual({ users: 0, identities: 0 });
  });

  it("the same claims signed with Google's key do sign in (the forgeries above fail for their flaw alone)", async () => {
    const res = await signInWithIdToken(await googleIdToken(newGoogleAccount()));
    expect(res.status).toBe(200);
  });

  it("the legacy issuer spelling accounts.google.com is accepted", async () => {
    const res = await signInWithIdToken(await googleIdToken(newGoogleAccount(), { iss: "accounts.google.com" }));
    expect(res.status).toBe(200);
  });

  it("an unreachable or broken key set is invalid_google_token, never a 500", async () => {
    const account = newGoogleAccount();
    const token = await googleIdToken(account);
    const down = createRemoteJWKSet(new URL("https://keys.example/certs"), {
      [customFetch]: async () => {
        throw new TypeError("network connection lost");
      },
    });
    const broken = createRemoteJWKSet(new URL("https://keys.example/certs"), {
      [customFetch]: async () => new Response("<html>oops</html>", { status: 502 }),
    });
    for (const keys of [down, broken]) {
      await expect(verifyGoogleIdToken(google, token, { now: Date.now(), keys })).rejects.toMatchObject({
        code: "invalid_google_token",
        status: 401,
      });
    }
  });

  it("the browser flow refuses an ID token whose nonce is not the one sent to Google", async () => {
    for (const nonce of ["another-nonce", undefined]) {
      const account = newGoogleAccount();
      const started = await startGoogle("nonce-device");
      const code = googleCodeFor(await googleIdToken(account, { nonce }));
      await expectProblem(await googleCallback({ code, state: started.state }, started.cookie), 401, "invalid_google_token");
      expect(await footprint(account)).toEqual({ users: 0, identities: 0 });
    }
  });

  it("the browser flow applies the same checks: a forged token from the token endpoint is refused", async () => {
    const account = newGoogleAccount();
    const started = await startGoogle("forged-device");
    const code = googleCodeFor(await googleIdToken(account, { nonce: started.nonce }, { key: otherKeys.privateKey }));
    await expectProblem(await googleCallback({ code, state: started.state }, started.cookie), 401, "invalid_google_token");
    expect(await footprint(account)).toEqual({ users: 0, identities: 0 });
  });
});

describe("an unverified email never links to an existing account", () => {
  it("email_verified false for a registered address: 401, and the account gains no Google identity", async () => {
    const { email, tokens } = await signedInUser();
    const account = newGoogleAccount(email);
    await expectProblem(await signInWithIdToken(await googleIdToken(account, { email_verified: false })), 401, "invalid_google_token");
    const { results } = await env.DB.prepare("SELECT provider_user_id FROM identities WHERE user_id = ?").bind(tokens.user.id).all();
    expect(results).toEqual([]);
  });

  it("an address someone only claimed (unverified_email of a phone account) is not linked: a new account is made", async () => {
    const account = newGoogleAccount();
    const phoneUserId = crypto.randomUUID();
    await insertUser(
      database(env.DB),
      { id: phoneUserId, phone: uniquePhone(), unverifiedEmail: account.email, isPhoneVerified: true },
      new Date(),
    );
    const res = await signInWithIdToken(await googleIdToken(account));
    expect(res.status).toBe(200);
    const body = await res.json<Json>();
    expect(body.created).toBe(true);
    expect(body.user.id).not.toBe(phoneUserId);
    const phoneUser = await env.DB.prepare("SELECT email FROM users WHERE id = ?").bind(phoneUserId).first<{ email: string | null }>();
    expect(phoneUser!.email).toBeNull();
  });

  it("a pending (unverified) registration is not linked, and cannot later take over the Google account", async () => {
    const account = newGoogleAccount();
    const { password } = await registerUser({ email: account.email });
    const res = await signInWithIdToken(await googleIdToken(account));
    expect(res.status).toBe(200);
    expect((await res.json<Json>()).created).toBe(true);
    // The squatter's code now finds the address taken, and their password opens nothing.
    await expectProblem(await post("/auth/verify-email", { email: account.email, code: lastCode(account.email) }), 400, "invalid_code");
    await expectProblem(await post("/auth/login", { email: account.email, password, device_id: "squatter" }), 401, "invalid_credentials");
  });
});

describe("concurrent first sign-ins", () => {
  it("20 concurrent first sign-ins for a new Google account create exactly one user and one identity", async () => {
    const account = newGoogleAccount();
    const token = await googleIdToken(account);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => signInWithIdToken(token, `burst-${i}`)));
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    const bodies = await Promise.all(answers.map((r) => r.json<Json>()));
    expect(bodies.filter((b) => b.created)).toHaveLength(1);
    expect(new Set(bodies.map((b) => b.user.id)).size).toBe(1);
    expect(await footprint(account)).toEqual({ users: 1, identities: 1 });
  });

  it("20 concurrent first sign-ins for an existing account's address link it once and create nobody", async () => {
    const { email, tokens } = await signedInUser();
    const account = newGoogleAccount(email);
    const token = await googleIdToken(account);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => signInWithIdToken(token, `link-${i}`)));
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    const bodies = await Promise.all(answers.map((r) => r.json<Json>()));
    expect(bodies.every((b) => b.created === false && b.user.id === tokens.user.id)).toBe(true);
    expect(await footprint(account)).toEqual({ users: 1, identities: 1 });
  });

  it("a burst through the browser flow for a new account also makes one user", async () => {
    const account = newGoogleAccount();
    const flows = await Promise.all(Array.from({ length: 5 }, (_, i) => browserSignIn(account, `tab-${i}`)));
    expect(flows.every((f) => f.exchangeCode !== "")).toBe(true);
    expect(await footprint(account)).toEqual({ users: 1, identities: 1 });
  });
});
