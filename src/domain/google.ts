import { Google, generateCodeVerifier, generateState } from "arctic";
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from "jose";
import * as z from "zod";
import type { Config } from "../config";
import { AppError } from "../errors";
import { findUserById } from "../storage/users";
import { randomToken, sha256Hex, timingSafeEqual } from "./crypto";
import { userSubject, type Deps, type RequestMeta } from "./deps";
import { accountForIdentity, signInWithIdentity } from "./identities";
import type { ProvedIdentity } from "./identity-providers";
import { normalizeEmail } from "./registration";
import { signUpRole, type SignUpRole } from "./roles";
import type { Device } from "./session-tokens";
import { completeSignIn } from "./sign-in";

// Google sign-in: an ID token (from the client, or from the code flow below) proves a Google account,
// an identity of provider "google" kept by its stable `sub` (src/domain/identities.ts links it).

export type GoogleConfig = NonNullable<Config["google"]>;

export const GOOGLE_JWKS_URL = "https://www.googleapis.com/oauth2/v3/certs";
const GOOGLE_ISSUERS = ["https://accounts.google.com", "accounts.google.com"];
const MAX_ID_TOKEN_LENGTH = 8192;

/** How long a Google sign-in may take between /auth/google/start and its callback. */
export const GOOGLE_STATE_TTL_SECONDS = 600;

// Once per isolate, so Google's keys are fetched once and cached (jose refetches on an unknown kid).
const GOOGLE_KEYS = createRemoteJWKSet(new URL(GOOGLE_JWKS_URL));

export function requireGoogle(config: Config): GoogleConfig {
  if (!config.google) throw new AppError("provider_not_configured");
  return config.google;
}

const GoogleClaims = z.object({
  sub: z.string().min(1).max(255),
  email: z.email().max(254),
  // Google says `true` only for addresses it has proved; anything else must not link accounts.
  email_verified: z.literal(true),
  name: z.string().optional(),
  given_name: z.string().optional(),
  family_name: z.string().optional(),
  picture: z.string().optional(),
  nonce: z.string().optional(),
});

const clip = (text: string | undefined, max: number) => (text?.trim() ? text.trim().slice(0, max) : null);

/**
 * Checks a Google ID token: RS256 signature by one of Google's published keys, `iss`, `aud` (our
 * client id), `exp`, `email_verified === true` and, for the code flow, the `nonce` we sent. Every
 * failure, an unreachable key set included, is the same `invalid_google_token`.
 */
export async function verifyGoogleIdToken(
  google: GoogleConfig,
  idToken: string,
  options: { now: number; nonce?: string; keys?: JWTVerifyGetKey },
): Promise<ProvedIdentity> {
  if (idToken.length === 0 || idToken.length > MAX_ID_TOKEN_LENGTH) throw new AppError("invalid_google_token");
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(idToken, options.keys ?? GOOGLE_KEYS, {
      algorithms: ["RS256"],
      issuer: GOOGLE_ISSUERS,
      audience: google.clientId,
      requiredClaims: ["sub", "exp", "iat", "email"],
      currentDate: new Date(options.now),
    }));
  } catch (err) {
    if (isKeySetFailure(err)) {
      console.error(JSON.stringify({ level: "error", event: "google_keys_unavailable", error: (err as Error).name }));
    }
    throw new AppError("invalid_google_token");
  }
  const claims = GoogleClaims.safeParse(payload);
  if (!claims.success) throw new AppError("invalid_google_token");
  const c = claims.data;
  // OpenID Connect Core §3.1.3.7: the nonce binds the ID token to the authorization request we made.
  if (options.nonce !== undefined && (c.nonce === undefined || !timingSafeEqual(c.nonce, options.nonce))) {
    throw new AppError("invalid_google_token");
  }
  const firstName = clip(c.given_name, 150);
  const lastName = clip(c.family_name, 150);
  return {
    provider: "google",
    subject: c.sub,
    email: normalizeEmail(c.email),
    profile: {
      fullName: clip(c.name, 150) ?? clip([firstName, lastName].filter(Boolean).join(" "), 150),
      firstName,
      lastName,
      picture: clip(c.picture, 2048),
    },
  };
}

/** The key set could not be fetched or read: worth an operator's attention, unlike a bad token. */
function isKeySetFailure(err: unknown): boolean {
  return !(err instanceof errors.JOSEError) || err instanceof errors.JWKSTimeout || err.code === "ERR_JOSE_GENERIC";
}

export async function signInWithGoogleIdToken(
  deps: Deps,
  input: { idToken: string; device: Device; role?: SignUpRole },
  meta: RequestMeta,
  now: number,
) {
  const identity = await verifyGoogleIdToken(requireGoogle(deps.config), input.idToken, { now });
  return signInWithIdentity(deps, identity, input.device, meta, now, input.role);
}

// ---- authorization-code flow (PKCE S256, state, nonce) --------------------------------------------

const SCOPES = ["openid", "email", "profile"];
const EXCHANGE_PURPOSE = "oauth-exchange";
const EXCHANGE_TTL_MS = 60_000;
const EXCHANGE_CODE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.[A-Za-z0-9_-]{43}$/;

/**
 * Kept server-side under the state's hash. `role` is what the person chose on the page that started
 * the flow: the account is created at the callback, so it travels here, never through Google or the
 * front end's fragment. Records written before it existed have none (CUSTOMER).
 */
type StateRecord = {
  code_verifier: string;
  nonce: string;
  device_id: string;
  redirect_uri: string;
  expires_at: number;
  role?: SignUpRole;
};
type ExchangeGrant = { created: boolean; device_id: string };

function googleClient(config: Config, google: GoogleConfig): Google {
  // Without a secret arctic acts as a public client (client_id in the body, PKCE only); its
  // OAuth2Client checks for null, which Google's constructor type does not admit.
  const secret = google.clientSecret ?? (null as unknown as string);
  return new Google(google.clientId, secret, `${config.publicBaseUrl}/api/v1/auth/google/callback`);
}

/** Where the callback sends the browser: the front end's callback page, or a page on its origin. */
export function frontendRedirect(config: Config, requested: string | undefined): string {
  const fallback = `${config.frontendUrl}/auth/callback`;
  if (requested === undefined) return fallback;
  let url: URL | undefined;
  try {
    url = new URL(requested);
  } catch {
    url = undefined;
  }
  // Only the configured front end: anything else would be an open redirect carrying a sign-in code.
  if (!url || url.origin !== new URL(config.frontendUrl).origin || url.hash !== "" || url.username || url.password) {
    throw new AppError("validation_error", {
      errors: [{ path: "redirect_uri", message: "must be a page of the configured front end, without a fragment" }],
    });
  }
  return url.href;
}

/** Starts the flow: the verifier, nonce and device wait in KV under the state's hash for 10 minutes. */
export async function startGoogleSignIn(
  deps: Deps,
  input: { deviceId: string; redirectUri: string; role?: SignUpRole },
  now: number,
): Promise<{ url: string; stateHash: string }> {
  const google = requireGoogle(deps.config);
  const state = generateState();
  const record: StateRecord = {
    code_verifier: generateCodeVerifier(),
    nonce: randomToken(32),
    device_id: input.deviceId,
    redirect_uri: input.redirectUri,
    expires_at: now + GOOGLE_STATE_TTL_SECONDS * 1000,
    role: signUpRole(input.role),
  };
  const url = googleClient(deps.config, google).createAuthorizationURL(state, record.code_verifier, SCOPES);
  url.searchParams.set("nonce", record.nonce);
  const stateHash = await sha256Hex(state);
  await deps.links.put("google-state", stateHash, JSON.stringify(record), GOOGLE_STATE_TTL_SECONDS);
  return { url: url.href, stateHash };
}

/**
 * Takes the state back, once: it is deleted before anything is checked, so a second callback with
 * it fails. The browser must present the cookie set by /start (the state's hash): a callback that
 * arrives from another browser, e.g. a link planted by an attacker, is refused (RFC 9700 §4.7.1).
 */
export async function takeGoogleState(
  deps: Deps,
  input: { state: string | undefined; cookie: string | undefined },
  now: number,
): Promise<StateRecord> {
  if (!input.state || input.state.length > 128) throw new AppError("invalid_state");
  const stateHash = await sha256Hex(input.state);
  const raw = await deps.links.get("google-state", stateHash);
  if (raw === null) throw new AppError("invalid_state");
  await deps.links.delete("google-state", stateHash);
  if (!input.cookie || !timingSafeEqual(input.cookie, stateHash)) throw new AppError("invalid_state");
  const record = JSON.parse(raw) as StateRecord;
  if (record.expires_at <= now) throw new AppError("invalid_state");
  return record;
}

/**
 * Redeems Google's code with the PKCE verifier, checks the ID token (and our nonce), resolves the
 * user and returns a one-time exchange code for the front end; no token is issued yet.
 */
export async function completeGoogleSignIn(deps: Deps, record: StateRecord, code: string, now: number): Promise<string> {
  const google = requireGoogle(deps.config);
  let idToken: string;
  try {
    const tokens = await googleClient(deps.config, google).validateAuthorizationCode(code, record.code_verifier);
    idToken = tokens.idToken();
  } catch (err) {
    console.error(JSON.stringify({ level: "error", event: "google_code_exchange_failed", error: (err as Error).name }));
    throw new AppError("invalid_google_token");
  }
  const identity = await verifyGoogleIdToken(google, idToken, { now, nonce: record.nonce });
  const { user, created } = await accountForIdentity(deps, identity, now, signUpRole(record.role));
  return issueExchangeCode(deps, user.id, { created, device_id: record.device_id }, now);
}

/**
 * `<user id>.<256 random bits>`, kept as a SHA-256 in the user's Durable Object for 60 s. Each code
 * is its own record (two tabs do not replace each other's), and the object deletes it in the same
 * step that accepts it, so it works once however many requests race for it.
 */
async function issueExchangeCode(deps: Deps, userId: string, grant: ExchangeGrant, now: number): Promise<string> {
  const code = `${userId}.${randomToken(32)}`;
  const hash = await sha256Hex(code);
  const put = await userSubject(deps, userId).putCode({
    purpose: `${EXCHANGE_PURPOSE}:${hash}`,
    codeHmac: "",
    linkHash: hash,
    payload: JSON.stringify(grant),
    now,
    codeTtlMs: 0,
    linkTtlMs: EXCHANGE_TTL_MS,
    recordTtlMs: EXCHANGE_TTL_MS,
    cooldownMs: 0,
  });
  if (!put.ok) throw new Error("exchange code could not be stored");
  return code;
}

/** Turns an exchange code into a session on the device that started the flow; once. */
export async function redeemGoogleExchangeCode(
  deps: Deps,
  input: { code: string; device: Device },
  meta: RequestMeta,
  now: number,
) {
  const match = EXCHANGE_CODE.exec(input.code);
  if (!match) throw new AppError("invalid_code");
  const userId = match[1]!;
  const hash = await sha256Hex(input.code);
  const result = await userSubject(deps, userId).verifyLink({ purpose: `${EXCHANGE_PURPOSE}:${hash}`, linkHash: hash, now });
  if (!result.ok) throw new AppError("invalid_code");
  const grant = JSON.parse(result.payload) as ExchangeGrant;
  if (grant.device_id !== input.device.deviceId) throw new AppError("invalid_code");
  const user = await findUserById(deps.db, userId);
  if (!user) throw new AppError("invalid_code");
  return { ...(await completeSignIn(deps, user, { method: "google", device: input.device, meta, now })), created: grant.created };
}
