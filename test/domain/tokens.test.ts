// Access tokens as issued: EdDSA under a published kid, typ at+jwt, the full claim set and a 15-minute
// lifetime; and key rotation: tokens signed by a retired-but-listed key keep verifying, new tokens use
// the new key, JWKS lists every listed key without private parts, and a removed key verifies nothing.
import { env } from "cloudflare:workers";
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, SignJWT, type JWK } from "jose";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { publicJwks, signAccessToken, verifyAccessToken, VerifiedTokens } from "../../src/domain/tokens";
import { call, expectProblem, PASSWORD, post, reauthenticate, signedInUser, type Json } from "../helpers";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const config = loadConfig(env);
const currentJwk = (JSON.parse(env.JWT_SIGNING_KEYS) as Array<JWK & { kid: string }>)[0]!;
const nextJwk = JSON.parse(env.TEST_NEXT_SIGNING_KEY) as JWK & { kid: string };

/** A fresh env object gives a fresh config (configs and key rings are cached per object). */
function configWithKeys(keys: JWK[]) {
  return loadConfig({ ...env, JWT_SIGNING_KEYS: JSON.stringify(keys) } as Env);
}

function claimsFor(nowSeconds: number) {
  return {
    sub: crypto.randomUUID(),
    sid: crypto.randomUUID(),
    role: "CUSTOMER" as const,
    jti: crypto.randomUUID(),
    iat: nowSeconds,
    auth_time: nowSeconds,
    amr: ["pwd"],
  };
}

describe("access token format", () => {
  it("is EdDSA under the published kid, typed at+jwt, and verifies with the JWKS alone", async () => {
    const { tokens } = await signedInUser({}, "format");
    const jwks = await (await call("/.well-known/jwks.json")).json<{ keys: JWK[] }>();

    const header = decodeProtectedHeader(tokens.access_token);
    expect(header).toEqual({ alg: "EdDSA", kid: currentJwk.kid, typ: "at+jwt" });
    expect(jwks.keys.map((k) => k.kid)).toContain(header.kid);

    const { payload } = await jwtVerify(tokens.access_token, createLocalJWKSet(jwks), {
      issuer: config.issuer,
      audience: config.audience,
      typ: "at+jwt",
    });
    expect(payload.sub).toBe(tokens.user.id);
  });

  it("carries iss, aud, sub, sid, role, iat, exp, jti, auth_time and amr, and lives 900 seconds", async () => {
    const { tokens } = await signedInUser({}, "claims");
    const claims = decodeJwt(tokens.access_token) as Json;

    expect(Object.keys(claims).sort()).toEqual(["amr", "aud", "auth_time", "exp", "iat", "iss", "jti", "role", "sid", "sub"]);
    // Signed in by the emailed verification code: a one-time code, just now.
    expect(claims).toMatchObject({ auth_time: claims.iat, amr: ["otp"] });
    expect(claims).toMatchObject({ iss: config.issuer, aud: config.audience, sub: tokens.user.id, role: "CUSTOMER" });
    expect(claims.sid).toMatch(UUID);
    expect(claims.jti).toMatch(UUID);
    expect(claims.exp - claims.iat).toBe(900);
    expect(tokens.refresh_token.split(".")[1]).toBe(claims.sid);
  });

  it("verifies until exp and not at or after it", async () => {
    const iat = Math.floor(Date.now() / 1000);
    const { token, exp } = await signAccessToken(config, claimsFor(iat));
    expect(exp).toBe(iat + 900);

    expect(await verifyAccessToken(config, token, exp - 1)).toMatchObject({ iat, exp });
    expect(await verifyAccessToken(config, token, exp)).toBeNull();
    expect(await verifyAccessToken(config, token, exp + 3600)).toBeNull();
  });
});

describe("the isolate's cache of verified tokens", () => {
  it("answers a token seen before, and still refuses it from its exp on", async () => {
    const iat = Math.floor(Date.now() / 1000);
    const { token, exp } = await signAccessToken(config, claimsFor(iat));
    const first = await verifyAccessToken(config, token, iat + 1);
    expect(first).toMatchObject({ iat, exp });
    // The same object: the second answer came from the cache, not from a second verification.
    expect(await verifyAccessToken(config, token, iat + 2)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(await verifyAccessToken(config, token, exp)).toBeNull();
    expect(await verifyAccessToken(config, token, exp - 1)).toMatchObject({ iat, exp });
  });

  it("refuses a token whose iat is ahead until that time, cached or not", async () => {
    const now = Math.floor(Date.now() / 1000);
    const { token } = await signAccessToken(config, claimsFor(now + 60));
    expect(await verifyAccessToken(config, token, now)).toBeNull();
    expect(await verifyAccessToken(config, token, now)).toBeNull();
    expect(await verifyAccessToken(config, token, now + 60)).not.toBeNull();
  });

  it("refuses tampered and truncated copies of a cached token", async () => {
    const iat = Math.floor(Date.now() / 1000);
    const { token } = await signAccessToken(config, claimsFor(iat));
    expect(await verifyAccessToken(config, token, iat + 1)).not.toBeNull();
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const flip = (part: string) => part.slice(0, 10) + (part[10] === "A" ? "B" : "A") + part.slice(11);
    for (const forged of [
      `${header}.${flip(payload)}.${signature}`,
      `${header}.${payload}.${flip(signature)}`,
      `${header}.${payload}.`,
      `${token}A`,
      token.slice(0, -1),
    ]) {
      expect(await verifyAccessToken(config, forged, iat + 1)).toBeNull();
    }
  });

  it("signed before step-up (no auth_time, no amr): accepted, never recent, and able to reauthenticate", async () => {
    const { tokens } = await signedInUser({}, "pre-step-up");
    const { sub, sid, role, jti, iat, exp } = decodeJwt(tokens.access_token) as Json;
    const key = await importJWK({ ...currentJwk, alg: "EdDSA" }, "EdDSA");
    const old = await new SignJWT({ sid, role })
      .setProtectedHeader({ alg: "EdDSA", kid: currentJwk.kid, typ: "at+jwt" })
      .setIssuer(config.issuer)
      .setAudience(config.audience)
      .setSubject(sub)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(jti)
      .sign(key);
    expect(await verifyAccessToken(config, old)).toMatchObject({ sub, sid, auth_time: 0, amr: [] });
    const change = { current_password: PASSWORD, new_password: "another horse battery staple" };
    await expectProblem(await post("/auth/password/change", change, { authorization: `Bearer ${old}` }), 403, "reauthentication_required");
    expect((await reauthenticate(old, { password: PASSWORD })).status).toBe(200);
  });

  it("is emptied with its key ring: a removed key verifies nothing, even for tokens seen before", async () => {
    const iat = Math.floor(Date.now() / 1000);
    const both = configWithKeys([currentJwk, nextJwk]);
    const { token } = await signAccessToken(both, claimsFor(iat));
    expect(await verifyAccessToken(both, token, iat + 1)).not.toBeNull();
    const onlyNext = configWithKeys([nextJwk]);
    expect(await verifyAccessToken(onlyNext, token, iat + 1)).toBeNull();
  });

  it("holds at most VerifiedTokens.MAX tokens, dropping the oldest", () => {
    const cache = new VerifiedTokens();
    const claims = Object.freeze({ ...claimsFor(1), exp: 901 });
    for (let i = 0; i < VerifiedTokens.MAX + 5; i++) cache.remember(`token-${i}`, claims);
    expect(cache.size).toBe(VerifiedTokens.MAX);
    expect(cache.get("token-0")).toBeUndefined();
    expect(cache.get(`token-${VerifiedTokens.MAX + 4}`)).toBe(claims);
  });
});

describe("signing key rotation", () => {
  it("keeps tokens of the previous key valid while new tokens use the next key", async () => {
    const iat = Math.floor(Date.now() / 1000);
    const before = await signAccessToken(config, claimsFor(iat));
    const rotated = configWithKeys([nextJwk, currentJwk]);

    expect(decodeProtectedHeader(before.token).kid).toBe(currentJwk.kid);
    expect(await verifyAccessToken(rotated, before.token, iat + 1)).not.toBeNull();

    const after = await signAccessToken(rotated, claimsFor(iat));
    expect(decodeProtectedHeader(after.token)).toEqual({ alg: "EdDSA", kid: nextJwk.kid, typ: "at+jwt" });
    expect(await verifyAccessToken(rotated, after.token, iat + 1)).not.toBeNull();
    // The pre-rotation configuration does not know the next key.
    expect(await verifyAccessToken(config, after.token, iat + 1)).toBeNull();
  });

  it("publishes both kids in JWKS, current first, with no private part", async () => {
    const rotated = configWithKeys([nextJwk, currentJwk]);
    const { keys } = await publicJwks(rotated);

    expect(keys.map((k) => k.kid)).toEqual([nextJwk.kid, currentJwk.kid]);
    for (const key of keys) {
      expect(key).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
      expect(key).not.toHaveProperty("d");
    }
    expect(keys.find((k) => k.kid === currentJwk.kid)!.x).toBe(currentJwk.x);
  });

  it("stops verifying tokens of a key once it is removed", async () => {
    const iat = Math.floor(Date.now() / 1000);
    const old = await signAccessToken(config, claimsFor(iat));
    const onlyNext = configWithKeys([nextJwk]);

    expect(await verifyAccessToken(onlyNext, old.token, iat + 1)).toBeNull();
    const fresh = await signAccessToken(onlyNext, claimsFor(iat));
    expect(await verifyAccessToken(onlyNext, fresh.token, iat + 1)).not.toBeNull();
    expect((await publicJwks(onlyNext)).keys.map((k) => k.kid)).toEqual([nextJwk.kid]);
  });
});
