// Invariant: only an access token signed by one of the service's own keys, with alg, kid, typ
// (at+jwt), iss, aud and a current validity window all as issued, opens a protected route; anything
// else (missing, garbage, alg none, HMAC with the public key, unknown key, expired, not yet valid,
// wrong claims, a refresh token, tampered, truncated or padded) answers 401 invalid_access_token.
import { env } from "cloudflare:workers";
import { base64url, decodeJwt, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWTHeaderParameters, type JWTPayload } from "jose";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { authed, base64urlJson, call, expectProblem, nowSeconds, signedInUser, type Json } from "../helpers";

const config = loadConfig(env);
const realJwk = (JSON.parse(env.JWT_SIGNING_KEYS) as Json[])[0]!;
const realKid = realJwk.kid as string;

type Subject = { claims: JWTPayload & Json; tokens: Json };

/** A real user and session, and the claims the service itself would put in their access token. */
async function subject(): Promise<Subject> {
  const { tokens } = await signedInUser({}, "forgery");
  const now = nowSeconds();
  const claims = {
    iss: config.issuer,
    aud: config.audience,
    sub: tokens.user.id as string,
    sid: decodeJwt(tokens.access_token).sid as string,
    role: "CUSTOMER",
    iat: now,
    exp: now + 900,
    jti: crypto.randomUUID(),
  };
  return { claims, tokens };
}

const HEADER: JWTHeaderParameters = { alg: "EdDSA", kid: realKid, typ: "at+jwt" };

async function sign(
  claims: JWTPayload,
  header: JWTHeaderParameters = HEADER,
  key?: CryptoKey | Uint8Array,
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader(header).sign(key ?? ((await importJWK(realJwk, "EdDSA")) as CryptoKey));
}

async function publicX(): Promise<string> {
  const jwks = await (await call("/.well-known/jwks.json")).json<Json>();
  return jwks.keys.find((k: Json) => k.kid === realKid).x as string;
}

async function expectRefused(authorization: string | null): Promise<void> {
  const res = await call("/users/me", { headers: authorization === null ? {} : { Authorization: authorization } });
  await expectProblem(res, 401, "invalid_access_token");
  // RFC 6750 §3.1: no Bearer credentials at all get a challenge without an error code.
  const sentBearer = authorization !== null && /^bearer(\s|$)/i.test(authorization);
  expect(res.headers.get("WWW-Authenticate")).toBe(sentBearer ? 'Bearer error="invalid_token"' : 'Bearer realm="edge-auth"');
}

describe("forged access tokens", () => {
  it("positive control: a token signed with the real key and the right claims is accepted", async () => {
    const { claims } = await subject();
    const res = await authed(await sign(claims), "/users/me");
    expect(res.status).toBe(200);
    expect((await res.json<Json>()).id).toBe(claims.sub);
  });

  const cases: Array<[string, (s: Subject) => Promise<string | null>]> = [
    ["no Authorization header", async () => null],
    ["a bare Bearer", async () => "Bearer"],
    ["Bearer with garbage", async () => "Bearer garbage"],
    ["another scheme with a valid token", async ({ claims }) => `Basic ${await sign(claims)}`],
    ["alg none", async ({ claims }) => `Bearer ${base64urlJson({ alg: "none", typ: "at+jwt" })}.${base64urlJson(claims)}.`],
    [
      "alg none with the real kid",
      async ({ claims }) => `Bearer ${base64urlJson({ alg: "none", kid: realKid, typ: "at+jwt" })}.${base64urlJson(claims)}.`,
    ],
    [
      "HS256 keyed with the JWKS x string",
      async ({ claims }) =>
        `Bearer ${await sign(claims, { alg: "HS256", kid: realKid, typ: "at+jwt" }, new TextEncoder().encode(await publicX()))}`,
    ],
    [
      "HS256 keyed with the public key bytes",
      async ({ claims }) =>
        `Bearer ${await sign(claims, { alg: "HS256", kid: realKid, typ: "at+jwt" }, base64url.decode(await publicX()))}`,
    ],
    [
      "a fresh Ed25519 key under an unknown kid",
      async ({ claims }) => {
        const { privateKey } = await generateKeyPair("EdDSA");
        return `Bearer ${await sign(claims, { ...HEADER, kid: "attacker-key" }, privateKey)}`;
      },
    ],
    [
      "a fresh Ed25519 key under the real kid",
      async ({ claims }) => `Bearer ${await sign(claims, HEADER, (await generateKeyPair("EdDSA")).privateKey)}`,
    ],
    ["no kid", async ({ claims }) => `Bearer ${await sign(claims, { alg: "EdDSA", typ: "at+jwt" })}`],
    ["expired", async ({ claims }) => `Bearer ${await sign({ ...claims, iat: nowSeconds() - 960, exp: nowSeconds() - 60 })}`],
    ["nbf in the future", async ({ claims }) => `Bearer ${await sign({ ...claims, nbf: nowSeconds() + 3600 })}`],
    [
      "iat in the future",
      async ({ claims }) => `Bearer ${await sign({ ...claims, iat: nowSeconds() + 3600, exp: nowSeconds() + 3600 + 900 })}`,
    ],
    ["wrong iss", async ({ claims }) => `Bearer ${await sign({ ...claims, iss: "https://evil.example" })}`],
    ["wrong aud", async ({ claims }) => `Bearer ${await sign({ ...claims, aud: "some-other-service" })}`],
    ["typ JWT", async ({ claims }) => `Bearer ${await sign(claims, { ...HEADER, typ: "JWT" })}`],
    ["no typ", async ({ claims }) => `Bearer ${await sign(claims, { alg: "EdDSA", kid: realKid })}`],
    ["a refresh token", async ({ tokens }) => `Bearer ${tokens.refresh_token}`],
    [
      "a payload tampered to role ADMIN",
      async ({ tokens }) => {
        const [header, , signature] = (tokens.access_token as string).split(".");
        return `Bearer ${header}.${base64urlJson({ ...decodeJwt(tokens.access_token), role: "ADMIN" })}.${signature}`;
      },
    ],
    ["a truncated signature", async ({ tokens }) => `Bearer ${(tokens.access_token as string).slice(0, -10)}`],
    [
      "the signature segment dropped",
      async ({ tokens }) => `Bearer ${(tokens.access_token as string).split(".").slice(0, 2).join(".")}.`,
    ],
    ["base64 padding appended", async ({ tokens }) => `Bearer ${tokens.access_token}==`],
    ["an extra segment", async ({ tokens }) => `Bearer ${tokens.access_token}.e30`],
    ["trailing garbage after a space", async ({ tokens }) => `Bearer ${tokens.access_token} x`],
  ];

  it.each(cases)("refuses %s", async (_label, build) => {
    const s = await subject();
    // The session behind every forgery is live: the refusal is the token's, not the session's.
    expect((await authed(s.tokens.access_token, "/users/me")).status).toBe(200);
    await expectRefused(await build(s));
  });
});
