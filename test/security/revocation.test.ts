// Invariant: once a session is revoked (logout, logout-all, DELETE /auth/sessions/{id}, reuse
// detection) its access tokens are refused at once, before they expire, and its refresh tokens
// never rotate again; nothing a refresh racing the revocation hands out outlives it.
import { describe, expect, it } from "vitest";
import {
  authed,
  expectAccessRefused,
  expectRefreshRefused,
  login,
  post,
  refreshesRacing,
  rotate,
  signedInUser,
  type Json,
} from "../helpers";

async function expectWorks(accessToken: string): Promise<void> {
  expect((await authed(accessToken, "/users/me")).status).toBe(200);
}

function sessionIdOf(refreshToken: string): string {
  return refreshToken.split(".")[1]!;
}

describe("revoked sessions stop working at once", () => {
  it("logout refuses the session's access and refresh tokens, and is idempotent", async () => {
    const { email, password, tokens, deviceId } = await signedInUser({}, "logout-phone");
    const other = await login(email, password, "logout-laptop");
    await expectWorks(tokens.access_token);

    const out = await post("/auth/logout", { refresh_token: tokens.refresh_token });
    expect(out.status).toBe(200);

    await expectAccessRefused(tokens.access_token);
    await expectRefreshRefused(tokens.refresh_token, deviceId);
    expect((await post("/auth/logout", { refresh_token: tokens.refresh_token })).status).toBe(200);
    await expectWorks(other.access_token);
  });

  it("logout-all refuses every session's access and refresh tokens and counts them", async () => {
    const { email, password, tokens, deviceId } = await signedInUser({}, "all-1");
    const second = await login(email, password, "all-2");
    const third = await login(email, password, "all-3");
    const thirdNext = await rotate(third.refresh_token, "all-3");
    const stranger = await signedInUser({}, "all-stranger");

    const res = await authed(second.access_token, "/auth/logout-all", { method: "POST" });
    expect(res.status).toBe(200);
    expect((await res.json<Json>()).revoked).toBe(3);

    for (const access of [tokens.access_token, second.access_token, third.access_token, thirdNext.access_token]) {
      await expectAccessRefused(access);
    }
    await expectRefreshRefused(tokens.refresh_token, deviceId);
    await expectRefreshRefused(second.refresh_token, "all-2");
    await expectRefreshRefused(thirdNext.refresh_token, "all-3");
    await expectRefreshRefused(third.refresh_token, "all-3");
    await expectWorks(stranger.tokens.access_token);
  });

  it("DELETE /auth/sessions/{id} ends that session and only that one", async () => {
    const { email, password, tokens, deviceId } = await signedInUser({}, "del-caller");
    const target = await login(email, password, "del-target");

    const res = await authed(tokens.access_token, `/auth/sessions/${sessionIdOf(target.refresh_token)}`, {
      method: "DELETE",
    });
    expect(res.status).toBe(204);

    await expectAccessRefused(target.access_token);
    await expectRefreshRefused(target.refresh_token, "del-target");
    await expectWorks(tokens.access_token);
    const next = await rotate(tokens.refresh_token, deviceId);
    await expectWorks(next.access_token);
  });

  it("reuse detection refuses the session's access tokens", async () => {
    const { tokens, deviceId } = await signedInUser({}, "reuse-revokes");
    const second = await rotate(tokens.refresh_token, deviceId);
    const third = await rotate(second.refresh_token, deviceId);
    await expectWorks(third.access_token);

    await expectRefreshRefused(tokens.refresh_token, deviceId, "refresh_token_reused");

    for (const access of [tokens.access_token, second.access_token, third.access_token]) {
      await expectAccessRefused(access);
    }
  });
});

describe("logout-all racing a burst of refreshes", () => {
  it("leaves no working token from any refresh in the burst", async () => {
    const { email, password, tokens, deviceId } = await signedInUser({}, "burst-target");
    const caller = await login(email, password, "burst-caller");

    const { revocation, issued } = await refreshesRacing(tokens.refresh_token, deviceId, () =>
      authed(caller.access_token, "/auth/logout-all", { method: "POST" }),
    );
    expect(revocation.status).toBe(200);
    expect((await revocation.json<Json>()).revoked).toBe(2);

    await expectAccessRefused(tokens.access_token);
    await expectRefreshRefused(tokens.refresh_token, deviceId);
    for (const refreshToken of new Set(issued.map((p) => p.refresh_token as string))) {
      await expectRefreshRefused(refreshToken, deviceId);
    }
    for (const accessToken of new Set(issued.map((p) => p.access_token as string))) {
      await expectAccessRefused(accessToken);
    }
  });
});
