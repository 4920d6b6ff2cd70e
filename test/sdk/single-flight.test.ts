// Invariant: one refresh at a time. Concurrent client.fetch calls that find the access token about to
// expire, or that get a 401 for an expired one, share one refresh request and all succeed with its
// pair: a refresh token is spent once (a second spend after the grace window would revoke the
// session). The same holds over an async storage like React Native's AsyncStorage.
import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { signAccessToken } from "../../src/domain/tokens";
import { memoryStorage, type AuthStorage } from "../../sdk/src/index";
import { signedInUser, url } from "../helpers";
import { asyncMapStorage, expiredAccess, sdkClient, tokenResponse } from "./sdk-helpers";

const BURST = 20;

/** An access token of the same session, signed by the service, whose `exp` has passed. */
async function reallyExpired(accessToken: string): Promise<string> {
  const config = loadConfig(env);
  const claims = decodeJwt(accessToken) as { sub: string; sid: string; role: "CUSTOMER" };
  const iat = Math.floor(Date.now() / 1000) - config.accessTtl - 60;
  const token = { sub: claims.sub, sid: claims.sid, role: claims.role, jti: crypto.randomUUID(), iat, auth_time: iat, amr: ["pwd"] };
  return (await signAccessToken(config, token)).token;
}

async function burst(storage: AuthStorage, expire: "client-side" | "server-side") {
  const { tokens } = await signedInUser({}, "burst-device");
  const { client, events, refreshes } = sdkClient({ storage, deviceId: "burst-device" });
  await client.setSession(
    expire === "client-side" ? expiredAccess(tokenResponse(tokens)) : { ...tokenResponse(tokens), access_token: await reallyExpired(tokens.access_token) },
  );

  const answers = await Promise.all(Array.from({ length: BURST }, () => client.fetch(url("/users/me"))));

  expect(answers.map((r) => r.status)).toEqual(Array(BURST).fill(200));
  expect(refreshes()).toBe(1);
  const session = await client.getSession();
  expect(session?.refresh_token).not.toBe(tokens.refresh_token);
  expect(events.map((e) => e.event)).toEqual(["SIGNED_IN", "TOKEN_REFRESHED"]);
}

describe("one refresh for a burst of client.fetch calls", () => {
  it(`${BURST} calls with an access token about to expire send one refresh (memory storage)`, async () => {
    await burst(memoryStorage(), "client-side");
  });

  it(`${BURST} calls that get a 401 for an expired access token send one refresh and retry once (memory storage)`, async () => {
    await burst(memoryStorage(), "server-side");
  });

  it(`the same over an async storage (a Map behind promises, like AsyncStorage)`, async () => {
    await burst(asyncMapStorage(), "client-side");
    await burst(asyncMapStorage(), "server-side");
  });

  it("a request whose body is a stream is not retried after a 401", async () => {
    const { tokens } = await signedInUser({}, "stream-device");
    const { client, refreshes } = sdkClient({ deviceId: "stream-device" });
    await client.setSession({ ...tokenResponse(tokens), access_token: await reallyExpired(tokens.access_token) });
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(JSON.stringify({ first_name: "Stream" })));
        controller.close();
      },
    });
    const res = await client.fetch(url("/users/me"), { method: "PATCH", body, headers: { "Content-Type": "application/json" } });
    expect(res.status).toBe(401);
    expect(refreshes()).toBe(0);
  });

  it("two tabs over one storage take turns through Web Locks: the second adopts the first one's pair", async () => {
    const { tokens } = await signedInUser({}, "tabs-device");
    const storage = memoryStorage();
    const tabs = [sdkClient({ storage, deviceId: "tabs-device" }), sdkClient({ storage, deviceId: "tabs-device" })];
    await tabs[0]!.client.setSession(expiredAccess(tokenResponse(tokens)));

    const answers = await withFakeWebLocks(() => Promise.all(tabs.map((t) => t.client.fetch(url("/users/me")))));

    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    expect(tabs[0]!.refreshes() + tabs[1]!.refreshes()).toBe(1);
  });

  it("without Web Locks, two tabs may both refresh: the server's grace window gives both the same pair", async () => {
    const { tokens } = await signedInUser({}, "nolock-device");
    const storage = memoryStorage();
    const tabs = [sdkClient({ storage, deviceId: "nolock-device" }), sdkClient({ storage, deviceId: "nolock-device" })];
    await tabs[0]!.client.setSession(expiredAccess(tokenResponse(tokens)));

    const answers = await Promise.all(tabs.map((t) => t.client.fetch(url("/users/me"))));

    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    expect(tabs.flatMap((t) => t.events.map((e) => e.event))).not.toContain("SIGNED_OUT");
  });
});

/** navigator.locks as browsers have it, for one exclusive lock name at a time: callbacks run in turn. */
async function withFakeWebLocks<T>(run: () => Promise<T>): Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  let requests = 0;
  const locks = {
    request<R>(name: string, cb: () => Promise<R>): Promise<R> {
      requests++;
      const result = (tails.get(name) ?? Promise.resolve()).then(cb, cb);
      tails.set(name, result.catch(() => {}));
      return result;
    },
  };
  Object.defineProperty(navigator, "locks", { value: locks, configurable: true });
  try {
    const result = await run();
    expect(requests).toBeGreaterThan(0);
    return result;
  } finally {
    delete (navigator as { locks?: unknown }).locks;
  }
}
