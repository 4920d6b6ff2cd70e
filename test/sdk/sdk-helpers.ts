import { exports } from "cloudflare:workers";
import { createAuthClient, type AuthEvent, type AuthStorage, type Session, type TokenResponse } from "../../sdk/src/index";
import { BASE } from "../helpers";

/** A request the SDK sent to the Worker: method, path and (JSON) body. */
export type Sent = { method: string; path: string; body: Record<string, any> | null };

/**
 * The SDK over the real Worker in this runtime: the test runtime's fetch is the SDK's fetch, and
 * every request it sends is recorded (refreshes are counted from this record).
 */
export function sdkClient(options: { storage?: AuthStorage; deviceId?: string } = {}) {
  const sent: Sent[] = [];
  const events: { event: AuthEvent; session: Session | null }[] = [];
  const client = createAuthClient({
    baseUrl: BASE,
    ...options,
    fetch: async (input, init) => {
      const request = new Request(input, init);
      const body = request.headers.get("Content-Type")?.includes("json") ? ((await request.clone().json()) as Record<string, any>) : null;
      sent.push({ method: request.method, path: new URL(request.url).pathname, body });
      return exports.default.fetch(request);
    },
  });
  client.onAuthStateChange((event, session) => events.push({ event, session }));
  const refreshes = () => sent.filter((r) => r.path === "/api/v1/auth/refresh").length;
  return { client, sent, events, refreshes };
}

/** React Native's AsyncStorage, as far as the SDK can tell: a Map behind promises that resolve later. */
export function asyncMapStorage(): AuthStorage & { items: Map<string, string> } {
  const items = new Map<string, string>();
  const later = <T>(value: () => T) => new Promise<T>((resolve) => setTimeout(() => resolve(value()), 1));
  return {
    items,
    getItem: (key) => later(() => items.get(key) ?? null),
    setItem: (key, value) => later(() => void items.set(key, value)),
    removeItem: (key) => later(() => void items.delete(key)),
  };
}

/** A token response whose access token the client takes as expired (the server still accepts it). */
export function expiredAccess<T extends { access_expires_at: string }>(tokens: T): T {
  return { ...tokens, access_expires_at: new Date(Date.now() - 1000).toISOString() };
}

/** A token response read as JSON by the test helpers, typed as the SDK reads it. */
export function tokenResponse(json: Record<string, any>): TokenResponse {
  return json as TokenResponse;
}
