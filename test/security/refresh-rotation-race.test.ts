// Invariant: any number of concurrent refreshes that present the same refresh token inside the grace
// window all succeed with the very same successor pair (refresh token and access token); the session
// is neither forked nor revoked, and the successor keeps working. The pair's access token carries the
// session's auth_time and amr (a refresh never moves them), also after a reauthentication.
import { decodeJwt } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { authed, authOf, moveClock, PASSWORD, post, reauthenticate, restoreClock, signedInUser, type Json } from "../helpers";

afterEach(restoreClock);

async function burst(refreshToken: string, deviceId: string, n: number): Promise<Json[]> {
  const responses = await Promise.all(
    Array.from({ length: n }, () => post("/auth/refresh", { refresh_token: refreshToken, device_id: deviceId })),
  );
  expect(responses.map((r) => r.status)).toEqual(Array(n).fill(200));
  return Promise.all(responses.map((r) => r.json<Json>()));
}

async function expectOneLiveSession(deviceId: string, pair: Json): Promise<void> {
  const list = await authed(pair.access_token, "/auth/sessions");
  expect(list.status).toBe(200);
  const { sessions } = await list.json<Json>();
  const forDevice = sessions.filter((s: Json) => s.device_id === deviceId);
  expect(forDevice).toHaveLength(1);
  expect(forDevice[0].id).toBe(decodeJwt(pair.access_token).sid);

  // Not revoked: the access token is honoured and the successor rotates normally.
  expect((await authed(pair.access_token, "/users/me")).status).toBe(200);
  const next = await post("/auth/refresh", { refresh_token: pair.refresh_token, device_id: deviceId });
  expect(next.status).toBe(200);
  const nextPair = await next.json<Json>();
  expect(nextPair.refresh_token).not.toBe(pair.refresh_token);
  expect((await authed(nextPair.access_token, "/users/me")).status).toBe(200);
}

describe.each([20, 100])("%i concurrent refreshes of one token", (n) => {
  it("all answer 200 with the identical successor pair", async () => {
    const { tokens, deviceId } = await signedInUser({}, `race-${n}`);
    const pairs = await burst(tokens.refresh_token, deviceId, n);

    expect(new Set(pairs.map((p) => p.refresh_token)).size).toBe(1);
    expect(new Set(pairs.map((p) => p.access_token)).size).toBe(1);
    const [pair] = pairs as [Json];
    expect(pair.refresh_token).not.toBe(tokens.refresh_token);
    expect(pair.access_token).not.toBe(tokens.access_token);
    expect(decodeJwt(pair.access_token).sid).toBe(decodeJwt(tokens.access_token).sid);
    const { auth_time, amr } = authOf(tokens.access_token);
    expect(authOf(pair.access_token)).toMatchObject({ auth_time, amr });
  });

  it("after a reauthentication, all get the identical pair carrying the new auth_time", async () => {
    const { tokens, deviceId } = await signedInUser({}, `race-reauth-${n}`);
    moveClock(11 * 60_000);
    const reauth = await reauthenticate(tokens.access_token, { password: PASSWORD });
    expect(reauth.status).toBe(200);
    const fresh = authOf((await reauth.json<Json>()).access_token);
    const pairs = await burst(tokens.refresh_token, deviceId, n);
    expect(new Set(pairs.map((p) => p.access_token)).size).toBe(1);
    expect(new Set(pairs.map((p) => p.refresh_token)).size).toBe(1);
    expect(authOf(pairs[0]!.access_token)).toMatchObject({ auth_time: fresh.auth_time, amr: ["pwd"] });
    expect(fresh.auth_time).toBeGreaterThan(authOf(tokens.access_token).auth_time);
  });

  it("neither forks nor revokes the session", async () => {
    const { tokens, deviceId } = await signedInUser({}, `race-fork-${n}`);
    const [pair] = (await burst(tokens.refresh_token, deviceId, n)) as [Json];
    await expectOneLiveSession(deviceId, pair);
  });
});
