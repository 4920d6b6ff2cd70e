import { runInDurableObject } from "cloudflare:test";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { authed, expectProblem, login, pause, post, rotate, signedInUser, userSubject, type Json } from "../helpers";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;
const IP = "203.0.113.7";
const USER_AGENT = "SessionsTest/1.0 (Android 15)";

async function listSessions(accessToken: string): Promise<Json[]> {
  const res = await authed(accessToken, "/auth/sessions");
  expect(res.status).toBe(200);
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  return (await res.json<Json>()).sessions as Json[];
}

const sidOf = (tokens: Json) => decodeJwt(tokens.access_token).sid as string;

/** Signs an existing user in on a named device, from a known address and client. */
async function loginFrom(email: string, password: string, deviceId: string): Promise<Json> {
  const res = await post(
    "/auth/login",
    { email, password, device_id: deviceId, device_name: "Ada's Pixel" },
    { "CF-Connecting-IP": IP, "User-Agent": USER_AGENT },
  );
  expect(res.status).toBe(200);
  return res.json<Json>();
}

describe("GET /auth/sessions", () => {
  it("records device, user agent, ip and times of the sign-in", async () => {
    const { email, password } = await signedInUser({}, "sessions-first");
    const before = Date.now();
    const tokens = await loginFrom(email, password, "pixel-8");

    const session = (await listSessions(tokens.access_token)).find((s) => s.id === sidOf(tokens));
    expect(session).toMatchObject({
      device_id: "pixel-8",
      device_name: "Ada's Pixel",
      user_agent: USER_AGENT,
      ip: IP,
      current: true,
    });
    expect(session!.created_at).toMatch(ISO);
    expect(session!.last_used_at).toBe(session!.created_at);
    expect(Date.parse(session!.created_at)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(session!.created_at)).toBeLessThanOrEqual(Date.now());
  });

  it("advances last_used_at on a refresh, writing D1 at most once a minute per session", async () => {
    const { email, password } = await signedInUser({}, "sessions-touch");
    const tokens = await loginFrom(email, password, "touch-device");
    const sid = sidOf(tokens);
    const [created] = (await listSessions(tokens.access_token)).filter((s) => s.id === sid);

    // A refresh inside the session's first minute leaves last_used_at as it was.
    const early = await rotate(tokens.refresh_token, "touch-device");
    await pause(100);
    expect((await listSessions(early.access_token)).find((s) => s.id === sid)!.last_used_at).toBe(created!.last_used_at);

    // A minute on (the session's start moved back in its Durable Object), the next refresh writes it.
    const userId = decodeJwt(tokens.access_token).sub!;
    await runInDurableObject(userSubject(userId), (_instance, state) => {
      state.storage.sql.exec(`UPDATE sessions SET created_at = created_at - 61000 WHERE id = ?`, sid);
    });
    const beforeRefresh = Date.now();
    const pair = await rotate(early.refresh_token, "touch-device");

    // last_used_at is written after the response (waitUntil): poll briefly.
    let touched: Json | undefined;
    for (let i = 0; i < 50 && !touched; i++) {
      const session = (await listSessions(pair.access_token)).find((s) => s.id === sid);
      if (session && Date.parse(session.last_used_at) > Date.parse(created!.last_used_at)) touched = session;
      else await pause(20);
    }
    expect(touched).toBeDefined();
    expect(Date.parse(touched!.last_used_at)).toBeGreaterThanOrEqual(beforeRefresh);
    expect(touched!.created_at).toBe(created!.created_at);
    expect(touched).toMatchObject({ device_id: "touch-device", ip: IP, user_agent: USER_AGENT, current: true });

    // The minute starts again from that write.
    const next = await rotate(pair.refresh_token, "touch-device");
    await pause(100);
    expect((await listSessions(next.access_token)).find((s) => s.id === sid)!.last_used_at).toBe(touched!.last_used_at);
  });

  it("lists only the caller's own sessions, marking the current one", async () => {
    const alice = await signedInUser({}, "alice-phone");
    const aliceLaptop = await login(alice.email, alice.password, "alice-laptop");
    const bob = await signedInUser({}, "bob-phone");

    const aliceSessions = await listSessions(aliceLaptop.access_token);
    expect(aliceSessions.map((s) => s.id).sort()).toEqual([sidOf(alice.tokens), sidOf(aliceLaptop)].sort());
    expect(aliceSessions.filter((s) => s.current).map((s) => s.id)).toEqual([sidOf(aliceLaptop)]);

    const bobSessions = await listSessions(bob.tokens.access_token);
    expect(bobSessions.map((s) => s.id)).toEqual([sidOf(bob.tokens)]);
  });
});

describe("DELETE /auth/sessions/{id}", () => {
  it("answers 404 session_not_found for another user's session, which keeps working", async () => {
    const alice = await signedInUser({}, "alice-del");
    const bob = await signedInUser({}, "bob-del");

    await expectProblem(
      await authed(alice.tokens.access_token, `/auth/sessions/${sidOf(bob.tokens)}`, { method: "DELETE" }),
      404,
      "session_not_found",
    );

    expect((await authed(bob.tokens.access_token, "/users/me")).status).toBe(200);
    expect((await listSessions(bob.tokens.access_token)).map((s) => s.id)).toEqual([sidOf(bob.tokens)]);
    const next = await rotate(bob.tokens.refresh_token, bob.deviceId);
    expect((await authed(next.access_token, "/users/me")).status).toBe(200);
  });

  it("answers 404 session_not_found for an unknown id", async () => {
    const { tokens } = await signedInUser({}, "unknown-del");
    await expectProblem(
      await authed(tokens.access_token, `/auth/sessions/${crypto.randomUUID()}`, { method: "DELETE" }),
      404,
      "session_not_found",
    );
    expect((await authed(tokens.access_token, "/users/me")).status).toBe(200);
  });

  it("removes the session from the list, and a second delete answers 404", async () => {
    const { email, password, tokens } = await signedInUser({}, "self-del");
    const other = await login(email, password, "self-del-other");
    const path = `/auth/sessions/${sidOf(other)}`;

    expect((await authed(tokens.access_token, path, { method: "DELETE" })).status).toBe(204);
    expect((await listSessions(tokens.access_token)).map((s) => s.id)).toEqual([sidOf(tokens)]);
    await expectProblem(await authed(tokens.access_token, path, { method: "DELETE" }), 404, "session_not_found");
  });
});
