// Refresh rotation and the two ways a session's tokens are refused once it has ended.
import { expect } from "vitest";
import { authed, expectProblem, post, type Json } from "./http";

/** POST /auth/refresh, which must succeed; returns the successor pair. */
export async function rotate(refreshToken: string, deviceId: string): Promise<Json> {
  const res = await post("/auth/refresh", { refresh_token: refreshToken, device_id: deviceId });
  expect(res.status).toBe(200);
  return res.json<Json>();
}

/** The access token answers 401 invalid_access_token with the RFC 6750 challenge. */
export async function expectAccessRefused(accessToken: string): Promise<void> {
  const res = await authed(accessToken, "/users/me");
  expect(res.headers.get("WWW-Authenticate")).toBe('Bearer error="invalid_token"');
  await expectProblem(res, 401, "invalid_access_token");
}

/** The refresh token answers 401 with `code` (invalid_refresh_token unless said otherwise). */
export async function expectRefreshRefused(refreshToken: string, deviceId: string, code = "invalid_refresh_token"): Promise<void> {
  await expectProblem(await post("/auth/refresh", { refresh_token: refreshToken, device_id: deviceId }), 401, code);
}

/**
 * Twenty refreshes of one token raced against `revoke`: ten sent first, and `revoke` fired with the
 * other ten once one of the first has landed, so some pairs are issued before the revocation and
 * some requests are still in flight around it. Every refresh answers 200 or 401
 * invalid_refresh_token, and at least one was issued; returns the revocation's answer and the
 * pairs issued.
 */
export async function refreshesRacing(
  refreshToken: string,
  deviceId: string,
  revoke: () => Promise<Response>,
): Promise<{ revocation: Response; issued: Json[] }> {
  const refreshOnce = () => post("/auth/refresh", { refresh_token: refreshToken, device_id: deviceId });
  const firstWave = Array.from({ length: 10 }, refreshOnce);
  await Promise.race(firstWave);
  const [revocation, ...secondWave] = await Promise.all([revoke(), ...Array.from({ length: 10 }, refreshOnce)]);
  const issued: Json[] = [];
  for (const res of [...(await Promise.all(firstWave)), ...secondWave]) {
    if (res.status === 200) issued.push(await res.json<Json>());
    else await expectProblem(res, 401, "invalid_refresh_token");
  }
  expect(issued.length).toBeGreaterThan(0);
  return { revocation: revocation!, issued };
}
