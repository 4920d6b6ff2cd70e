import { SignJWT, exportJWK, importJWK, jwtVerify, type JWK, type JWTPayload } from "jose";
import type { Config } from "../config";
import { base64url, hmacSha256, randomToken, sha256Hex } from "./crypto";
import { ROLES, type Role } from "./roles";

export type { Role };

/**
 * `auth_time`: when the user last proved who they are in this session (sign-in or reauthentication),
 * NumericDate seconds; `amr`: how (RFC 8176 values). A token signed before they existed reads as
 * auth_time 0 and amr [], so it never counts as a recent sign-in.
 */
export type AccessClaims = {
  sub: string; sid: string; role: Role; jti: string; iat: number; exp: number; auth_time: number; amr: readonly string[];
};

/** What is signed into an access token; `exp` follows from `iat`. */
export type AccessTokenClaims = Omit<AccessClaims, "exp">;

type SigningKey = { kid: string; alg: "EdDSA" | "ES256"; privateKey: CryptoKey; publicKey: CryptoKey; publicJwk: JWK };
type KeyRing = { current: SigningKey; byKid: Map<string, SigningKey>; jwks: { keys: JWK[] }; verified: VerifiedTokens };

/**
 * Access tokens this isolate has already verified, with their claims. A client sends the same
 * token for its whole lifetime, and its Ed25519 check would be the largest cost of `/users/me`
 * (docs/performance.md): the same bytes verify the same way, so only the time-dependent checks
 * (`exp`, `iat` not in the future) are made again. Only tokens whose signature and claims passed
 * enter; the map belongs to one key ring, so it goes with the keys; it holds at most `MAX` tokens,
 * dropping the oldest.
 */
export class VerifiedTokens {
  static readonly MAX = 10_000;
  readonly #entries = new Map<string, AccessClaims>();

  /** The claims of a token verified before, or undefined. */
  get(token: string): AccessClaims | undefined {
    return this.#entries.get(token);
  }

  remember(token: string, claims: AccessClaims): void {
    if (this.#entries.size >= VerifiedTokens.MAX) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(token, claims);
  }

  forget(token: string): void {
    this.#entries.delete(token);
  }

  get size(): number {
    return this.#entries.size;
  }
}

const rings = new WeakMap<Config, Promise<KeyRing>>();

function algOf(jwk: Record<string, unknown>): "EdDSA" | "ES256" {
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519") return "EdDSA";
  if (jwk.kty === "EC" && jwk.crv === "P-256") return "ES256";
  throw new Error(`unsupported signing key type for kid ${String(jwk.kid)}`);
}

async function buildRing(config: Config): Promise<KeyRing> {
  const keys = await Promise.all(
    config.signingKeys.map(async (jwk): Promise<SigningKey> => {
      const alg = algOf(jwk);
      const { d: _d, ...pub } = jwk;
      const privateKey = (await importJWK({ ...jwk, alg }, alg)) as CryptoKey;
      const publicKey = (await importJWK({ ...pub, alg }, alg)) as CryptoKey;
      const publicJwk = { ...(await exportJWK(publicKey)), kid: jwk.kid, alg, use: "sig" };
      return { kid: jwk.kid, alg, privateKey, publicKey, publicJwk };
    }),
  );
  return {
    current: keys[0]!,
    byKid: new Map(keys.map((k) => [k.kid, k])),
    jwks: { keys: keys.map((k) => k.publicJwk) },
    verified: new VerifiedTokens(),
  };
}

/** Keys are imported once per configuration, not per request. */
export function keyRing(config: Config): Promise<KeyRing> {
  let ring = rings.get(config);
  if (!ring) {
    ring = buildRing(config);
    ring.catch(() => rings.delete(config));
    rings.set(config, ring);
  }
  return ring;
}

export async function publicJwks(config: Config): Promise<{ keys: JWK[] }> {
  return (await keyRing(config)).jwks;
}

export async function signAccessToken(config: Config, claims: AccessTokenClaims): Promise<{ token: string; exp: number }> {
  const { current } = await keyRing(config);
  const exp = claims.iat + config.accessTtl;
  // Ed25519 signatures are deterministic: the same claims give the same token, which is what lets a
  // refresh inside the grace window hand back the very same pair.
  const token = await new SignJWT({ sid: claims.sid, role: claims.role, auth_time: claims.auth_time, amr: [...claims.amr] })
    .setProtectedHeader({ alg: current.alg, kid: current.kid, typ: "at+jwt" })
    .setIssuer(config.issuer)
    .setAudience(config.audience)
    .setSubject(claims.sub)
    .setIssuedAt(claims.iat)
    .setExpirationTime(exp)
    .setJti(claims.jti)
    .sign(current.privateKey);
  return { token, exp };
}

/** Pins algorithm (per key), issuer, audience and `typ`; returns null for anything not valid. */
export async function verifyAccessToken(config: Config, token: string, nowSeconds?: number): Promise<AccessClaims | null> {
  const ring = await keyRing(config);
  const now = nowSeconds ?? Math.floor(Date.now() / 1000);
  const known = ring.verified.get(token);
  if (known) {
    if (timely(known, now)) return known;
    if (known.exp <= now) ring.verified.forget(token);
    return null;
  }
  try {
    const { payload } = await jwtVerify(
      token,
      (header) => {
        const key = header.kid ? ring.byKid.get(header.kid) : undefined;
        if (!key || header.alg !== key.alg) throw new Error("unknown key");
        return key.publicKey;
      },
      {
        algorithms: ["EdDSA", "ES256"],
        issuer: config.issuer,
        audience: config.audience,
        typ: "at+jwt",
        requiredClaims: ["sub", "sid", "jti", "iat", "exp"],
        currentDate: nowSeconds === undefined ? undefined : new Date(nowSeconds * 1000),
      },
    );
    const claims = toClaims(payload);
    if (!claims) return null;
    ring.verified.remember(token, claims);
    return timely(claims, now) ? claims : null;
  } catch {
    return null;
  }
}

const IAT_LEEWAY_SECONDS = 5;

/**
 * `exp` strictly in the future (as jose checks it), and `iat` not in the future: jose checks `iat`
 * only against a maximum age, so one from the future is refused here, with a few seconds for the
 * clocks of other machines.
 */
function timely(claims: AccessClaims, now: number): boolean {
  return now < claims.exp && claims.iat <= now + IAT_LEEWAY_SECONDS;
}

const KNOWN_ROLES = new Set<string>(ROLES);

function toClaims(p: JWTPayload): AccessClaims | null {
  const { sub, jti, iat, exp } = p;
  const sid = p.sid;
  const role = p.role as Role;
  if (typeof sub !== "string" || typeof sid !== "string" || typeof jti !== "string") return null;
  if (typeof iat !== "number" || typeof exp !== "number" || !KNOWN_ROLES.has(role)) return null;
  // Tokens from before step-up carry neither: they read as never recently authenticated.
  const authTime = typeof p.auth_time === "number" && Number.isFinite(p.auth_time) ? p.auth_time : 0;
  const amr = Array.isArray(p.amr) && p.amr.every((v) => typeof v === "string") ? Object.freeze([...p.amr]) : Object.freeze([]);
  // Shared by every request that presents the same token: nobody may change it.
  return Object.freeze({ sub, sid, role, jti, iat, exp, auth_time: authTime, amr });
}

// Refresh tokens: `<user id>.<session id>.<secret>`, 256 random bits in the first secret. Only a
// SHA-256 of the whole token is stored. Each successor's secret is HMAC(server key, predecessor), so
// a request that presents the same token inside the grace window recomputes the same successor
// without the server ever storing a usable token.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export type ParsedRefreshToken = { userId: string; sessionId: string; token: string };

export function newRefreshToken(userId: string, sessionId: string): string {
  return `${userId}.${sessionId}.${randomToken(32)}`;
}

export function parseRefreshToken(token: string): ParsedRefreshToken | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  const [userId, sessionId, secret] = parts as [string, string, string];
  if (!UUID.test(userId) || !UUID.test(sessionId) || !/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
  return { userId, sessionId, token };
}

export async function successorRefreshToken(config: Config, parsed: ParsedRefreshToken): Promise<string> {
  const secret = base64url(await hmacSha256(config.refreshSecret, parsed.token));
  return `${parsed.userId}.${parsed.sessionId}.${secret}`;
}

export const hashRefreshToken = sha256Hex;
