import type { Config } from "../config";
import { base64url, fromBase64url } from "./crypto";

// Device tokens (OWASP "device cookies"): at each successful password sign-in the service hands the
// client a token naming the user and the device it signed in on. During a lock caused by someone
// else's guesses, a sign-in that brings a valid token for that account and device gets its own small
// budget instead of the shared one. The client-chosen device_id alone proves nothing; the token does,
// because only the service can make one. Format: `v1.<base64url JSON {u, d, iat}>.<HMAC-SHA256>`.

/** How long a device stays recognised after its last password sign-in. */
export const DEVICE_TOKEN_TTL_SECONDS = 90 * 24 * 3600;

/** Wrong passwords a recognised device may make per lock window, apart from everyone else's. */
export const DEVICE_LOGIN_BUDGET = 5;

const VERSION = "v1";
const IAT_LEEWAY_SECONDS = 5;
const encoder = new TextEncoder();
const keys = new WeakMap<Config, Promise<CryptoKey>>();

/** HKDF from the refresh secret under its own label: no other MAC made with that secret is a device token. */
function deviceKey(config: Config): Promise<CryptoKey> {
  let key = keys.get(config);
  if (!key) {
    key = crypto.subtle
      .importKey("raw", encoder.encode(config.refreshSecret), "HKDF", false, ["deriveKey"])
      .then((base) =>
        crypto.subtle.deriveKey(
          { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode("edge-auth device-token v1") },
          base,
          { name: "HMAC", hash: "SHA-256", length: 256 },
          false,
          ["sign", "verify"],
        ),
      );
    keys.set(config, key);
  }
  return key;
}

export async function issueDeviceToken(config: Config, userId: string, deviceId: string, now: number): Promise<string> {
  const body = base64url(encoder.encode(JSON.stringify({ u: userId, d: deviceId, iat: Math.floor(now / 1000) })));
  const mac = await crypto.subtle.sign("HMAC", await deviceKey(config), encoder.encode(`${VERSION}.${body}`));
  return `${VERSION}.${body}.${base64url(new Uint8Array(mac))}`;
}

/** The user a token vouches for on `deviceId`; null for anything forged, malformed, expired or for another device. */
export async function deviceTokenUser(config: Config, token: string, deviceId: string, now: number): Promise<string | null> {
  const [version, body, mac, ...rest] = token.split(".");
  if (version !== VERSION || !body || !mac || rest.length > 0) return null;
  try {
    const valid = await crypto.subtle.verify("HMAC", await deviceKey(config), fromBase64url(mac), encoder.encode(`${VERSION}.${body}`));
    if (!valid) return null;
    const claims = JSON.parse(new TextDecoder().decode(fromBase64url(body))) as { u?: unknown; d?: unknown; iat?: unknown };
    const nowSeconds = Math.floor(now / 1000);
    if (typeof claims.u !== "string" || claims.d !== deviceId || typeof claims.iat !== "number") return null;
    if (claims.iat > nowSeconds + IAT_LEEWAY_SECONDS || claims.iat + DEVICE_TOKEN_TTL_SECONDS <= nowSeconds) return null;
    return claims.u;
  } catch {
    return null;
  }
}

/** The Durable Object budget of one recognised device of one user. */
export function deviceBudget(userId: string, deviceId: string): string {
  return `device:${userId}:${deviceId}`;
}
