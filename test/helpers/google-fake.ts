// A fake Google for tests: its JWKS and token endpoint answer through a spy on globalThis.fetch, so
// nothing reaches the network. jose caches the remote key set per isolate (one per test file), so the
// key pair is made once, when this module loads, and every token a test signs uses it.
import { env } from "cloudflare:workers";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from "jose";
import { expect, vi } from "vitest";
import { loadConfig } from "../../src/config";
import { GOOGLE_JWKS_URL } from "../../src/domain/google";
import { call, post, type Json } from "./http";
import { nowSeconds } from "./time";
import { uniqueEmail } from "./users";

export const GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token";
export const GOOGLE_AUTH_URL = "https://accounts.google.com/o/oauth2/v2/auth";
export const GOOGLE_KID = "fake-google-1";

const config = loadConfig(env);
export const CLIENT_ID = config.google!.clientId;
export const FRONTEND_CALLBACK = `${config.frontendUrl}/auth/callback`;
export const REDIRECT_URI = `${config.publicBaseUrl}/api/v1/auth/google/callback`;

const googleKeys = await generateKeyPair("RS256", { extractable: true });
export const googlePublicJwk = { ...(await exportJWK(googleKeys.publicKey)), kid: GOOGLE_KID, alg: "RS256", use: "sig" };

/** Every form body the fake token endpoint received, in order. */
export const tokenRequests: URLSearchParams[] = [];
/** The Authorization header of each token request (client authentication), in order. */
export const tokenAuthorizations: (string | null)[] = [];
const idTokensByCode = new Map<string, string>();

const realFetch = globalThis.fetch;
vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
  const request = new Request(input, init);
  if (request.url === GOOGLE_JWKS_URL) return Response.json({ keys: [googlePublicJwk] });
  if (request.url === GOOGLE_TOKEN_URL) {
    const body = new URLSearchParams(new TextDecoder().decode(await request.arrayBuffer()));
    tokenRequests.push(body);
    tokenAuthorizations.push(request.headers.get("Authorization"));
    const idToken = idTokensByCode.get(body.get("code") ?? "");
    if (!idToken) return Response.json({ error: "invalid_grant" }, { status: 400 });
    idTokensByCode.delete(body.get("code")!); // Google's codes work once
    return Response.json({ access_token: "ya29.fake", token_type: "Bearer", expires_in: 3599, id_token: idToken });
  }
  return realFetch(input, init);
});

/** An authorization code the fake token endpoint will redeem, once, for this ID token. */
export function googleCodeFor(idToken: string): string {
  const code = `4/fake-${crypto.randomUUID()}`;
  idTokensByCode.set(code, idToken);
  return code;
}

export type GoogleAccount = { sub: string; email: string };

export function newGoogleAccount(email = uniqueEmail("google")): GoogleAccount {
  return { sub: String(crypto.getRandomValues(new Uint32Array(3)).join("")), email };
}

/**
 * An ID token as Google would sign it for `account`; `claims` override the defaults, and a claim
 * set to undefined is left out. `key`/`kid`/`alg` make forgeries.
 */
export async function googleIdToken(
  account: GoogleAccount,
  claims: Json = {},
  options: { key?: CryptoKey | Uint8Array; kid?: string; alg?: string } = {},
): Promise<string> {
  const now = nowSeconds();
  const payload: Json = {
    iss: "https://accounts.google.com",
    azp: CLIENT_ID,
    aud: CLIENT_ID,
    sub: account.sub,
    email: account.email,
    email_verified: true,
    name: "Ada Lovelace",
    given_name: "Ada",
    family_name: "Lovelace",
    picture: "https://lh3.googleusercontent.com/a/fake-picture",
    iat: now,
    exp: now + 3600,
    ...claims,
  };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return new SignJWT(payload)
    .setProtectedHeader({ alg: options.alg ?? "RS256", kid: options.kid ?? GOOGLE_KID, typ: "JWT" })
    .sign(options.key ?? googleKeys.privateKey);
}

export function signInWithIdToken(idToken: string, deviceId = "google-device") {
  return post("/auth/google", { id_token: idToken, device_id: deviceId });
}

export type Started = { res: Response; location: URL; state: string; nonce: string; cookie: string };

/** GET /auth/google/start as a browser: the redirect to Google and the state cookie it set. */
export async function startGoogle(deviceId = "browser-1", query = ""): Promise<Started> {
  // manual: the Worker's own fetch would follow the redirect back into the Worker
  const res = await call(`/auth/google/start?device_id=${encodeURIComponent(deviceId)}${query}`, { redirect: "manual" });
  expect(res.status).toBe(302);
  const location = new URL(res.headers.get("Location")!);
  const setCookie = res.headers.get("Set-Cookie") ?? "";
  return {
    res,
    location,
    state: location.searchParams.get("state")!,
    nonce: location.searchParams.get("nonce")!,
    cookie: setCookie.split(";")[0]!,
  };
}

/** Google's redirect back to the callback, with the browser's cookie when one is given. */
export function googleCallback(params: Record<string, string>, cookie?: string): Promise<Response> {
  return call(`/auth/google/callback?${new URLSearchParams(params)}`, {
    redirect: "manual",
    headers: cookie ? { Cookie: cookie } : {},
  });
}

/** The whole browser flow up to the front end: start, consent at Google (faked), callback. */
export async function browserSignIn(account: GoogleAccount, deviceId = "browser-1") {
  const started = await startGoogle(deviceId);
  const code = googleCodeFor(await googleIdToken(account, { nonce: started.nonce }));
  const res = await googleCallback({ code, state: started.state }, started.cookie);
  expect(res.status).toBe(302);
  const location = res.headers.get("Location")!;
  const exchangeCode = /#code=([^&]+)$/.exec(location)?.[1];
  return { started, res, location, exchangeCode: exchangeCode ?? "" };
}
