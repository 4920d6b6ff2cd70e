// Invariant: a client whose refresh token is dead ends signed out, once. A refresh racing a logout
// ends signed out and leaves no session open on the server; a spent token replayed after the grace
// window (reuse: the server revoked the session) clears the storage and emits SIGNED_OUT once,
// however many calls were waiting on that refresh; but a tab that finds a newer pair stored by
// another tab adopts it instead of signing out.
import { describe, expect, it } from "vitest";
import { createAuthClient, memoryStorage } from "../../sdk/src/index";
import { refresh } from "../../src/domain/session-tokens";
import { authed, BASE, login, signedInUser, testDeps, url, type Json } from "../helpers";
import { expiredAccess, sdkClient, tokenResponse } from "./sdk-helpers";

const GRACE_PASSED_MS = 11_000;

async function openSessions(email: string, password: string): Promise<number> {
  const probe = await login(email, password, "probe-device");
  const res = await authed(probe.access_token, "/auth/sessions");
  return ((await res.json()) as Json).sessions.length - 1;
}

describe("signing out when the refresh token is dead", () => {
  for (const order of ["fetch first", "logout first"] as const) {
    it(`a refresh racing a logout (${order}) ends signed out, with no session left on the server`, async () => {
      const { email, password, tokens } = await signedInUser({}, "race-device");
      const { client, events, refreshes } = sdkClient({ deviceId: "race-device" });
      await client.setSession(expiredAccess(tokenResponse(tokens)));

      const work = order === "fetch first" ? [client.fetch(url("/users/me")), client.logout()] : [client.logout(), client.fetch(url("/users/me"))];
      await Promise.allSettled(work);

      expect(await client.getSession()).toBeNull();
      expect(events.filter((e) => e.event === "SIGNED_OUT")).toHaveLength(1);
      expect(events.at(-1)?.event).toBe("SIGNED_OUT");
      expect(refreshes()).toBeLessThanOrEqual(1);
      expect(await openSessions(email, password)).toBe(0);
    });
  }

  it("a spent token replayed after the grace window signs out once, however many calls wait on it", async () => {
    const { tokens } = await signedInUser({}, "replay-device");
    const { client, events, refreshes } = sdkClient({ deviceId: "replay-device" });
    await client.setSession(expiredAccess(tokenResponse(tokens)));
    // Someone else spent the same refresh token (a copy of the storage, a stolen token), longer ago
    // than the grace window: the domain is handed that moment instead of the test sleeping.
    const { deps, settle } = testDeps();
    await refresh(deps, { refreshToken: tokens.refresh_token, deviceId: "replay-device" }, Date.now() - GRACE_PASSED_MS);
    await settle();

    const answers = await Promise.all(Array.from({ length: 5 }, () => client.fetch(url("/users/me"))));

    expect(answers.map((r) => r.status)).toEqual(Array(5).fill(401));
    expect(refreshes()).toBe(1);
    expect(await client.getSession()).toBeNull();
    expect(events.map((e) => e.event)).toEqual(["SIGNED_IN", "SIGNED_OUT"]);
  });

  it("a dead-token answer after another tab stored a newer pair adopts that pair instead of signing out", async () => {
    const storage = memoryStorage();
    const pair = (n: number) => ({
      access_token: `access-${n}`,
      token_type: "Bearer" as const,
      expires_in: 900,
      access_expires_at: new Date(Date.now() + (n === 0 ? -1000 : 900_000)).toISOString(),
      refresh_token: `refresh-${n}`,
      refresh_expires_at: new Date(Date.now() + 86_400_000).toISOString(),
    });
    const other = createAuthClient({ baseUrl: BASE, storage });
    const seen: string[] = [];
    const client = createAuthClient({
      baseUrl: BASE,
      storage,
      fetch: async (input, init) => {
        const request = new Request(input, init);
        if (request.url.endsWith("/auth/refresh")) {
          // Meanwhile another tab refreshed and stored its pair; this spend came too late.
          await other.setSession(pair(1));
          return Response.json({ status: 401, code: "refresh_token_reused", detail: "reused" }, { status: 401, headers: { "Content-Type": "application/problem+json" } });
        }
        seen.push(request.headers.get("Authorization") ?? "");
        return Response.json({ ok: true });
      },
    });
    const events: string[] = [];
    client.onAuthStateChange((event) => events.push(event));
    await client.setSession(pair(0));

    expect((await client.fetch(url("/users/me"))).status).toBe(200);
    expect(seen).toEqual(["Bearer access-1"]);
    expect((await client.getSession())?.refresh_token).toBe("refresh-1");
    expect(events).toEqual(["SIGNED_IN"]);
  });
});
