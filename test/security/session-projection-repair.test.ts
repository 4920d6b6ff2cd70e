// Invariant: the user's Durable Object is the truth for sessions and D1's list is its projection,
// and the two never disagree in the unsafe direction. A session is handed out only once it is
// listed: when D1 refuses the new row the sign-in fails and the object ends the session. A
// revocation takes effect at once even when D1 refuses to stamp the row (the list then shows an
// ended session for a while, never the reverse). Whatever D1 refused, the object's alarm writes.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it, vi } from "vitest";
import { refuseSessionWrites } from "../durable/store-harness";
import { authed, expectProblem, login, post, signedInUser, type Json } from "../helpers";

const userStub = (userId: string) => env.SUBJECTS.get(env.SUBJECTS.idFromName(`user:${userId}`));
const sidOf = (tokens: Json) => decodeJwt(tokens.access_token as string).sid as string;

type Held = { id: string; revoked_at: number | null };
type Pending = { id: string; opened: string | null; revoked_at: number | null; last_used_at: number | null; attempts: number };

/** What the user's object holds: its sessions and the D1 writes still pending. */
function held(userId: string): Promise<{ sessions: Held[]; pending: Pending[] }> {
  return runInDurableObject(userStub(userId), (_instance, state) => ({
    sessions: state.storage.sql.exec<Held>(`SELECT id, revoked_at FROM sessions`).toArray(),
    pending: state.storage.sql.exec<Pending>(`SELECT id, opened, revoked_at, last_used_at, attempts FROM session_outbox`).toArray(),
  }));
}

async function listed(userId: string): Promise<Array<{ id: string; revoked_at: number | null; last_used_at: number }>> {
  const { results } = await env.DB.prepare("SELECT id, revoked_at, last_used_at FROM sessions WHERE user_id = ?").bind(userId).all();
  return results as Array<{ id: string; revoked_at: number | null; last_used_at: number }>;
}

async function listedIds(accessToken: string): Promise<string[]> {
  const res = await authed(accessToken, "/auth/sessions");
  expect(res.status).toBe(200);
  return ((await res.json<Json>()).sessions as Json[]).map((s) => s.id as string);
}

/** The sessions a login.succeeded row names for this user. */
async function succeededSessions(userId: string): Promise<string[]> {
  const { results } = await env.DB.prepare("SELECT details FROM audit_events WHERE action = 'login.succeeded' AND actor_id = ?").bind(userId).all<{ details: string }>();
  return results.map((r) => (JSON.parse(r.details) as { session_id: string }).session_id);
}

/** D1 refuses this user's session writes while `during` runs; the log lines it causes are silenced. */
async function whileD1Refuses<T>(userId: string, during: () => Promise<T>): Promise<T> {
  const log = vi.spyOn(console, "error").mockImplementation(() => undefined);
  const allow = await refuseSessionWrites(userId);
  try {
    return await during();
  } finally {
    await allow();
    log.mockRestore();
  }
}

describe("the session list as a projection of the user's object", () => {
  it("a sign-in whose row D1 refuses fails, its session ended; the alarm lists it as ended", async () => {
    const { email, password, tokens } = await signedInUser({}, "repair-1");
    const userId = tokens.user.id as string;

    const res = await whileD1Refuses(userId, () => post("/auth/login", { email, password, device_id: "repair-2" }));
    await expectProblem(res, 500, "internal_error");

    const { sessions, pending } = await held(userId);
    const lost = sessions.find((s) => s.id !== sidOf(tokens))!;
    expect(lost.revoked_at).not.toBeNull();
    expect(pending).toEqual([expect.objectContaining({ id: lost.id, revoked_at: lost.revoked_at, attempts: 1 })]);
    expect(pending[0]!.opened).not.toBeNull();
    expect((await listed(userId)).map((s) => s.id)).toEqual([sidOf(tokens)]);

    expect(await runDurableObjectAlarm(userStub(userId))).toBe(true);
    expect(await listed(userId)).toContainEqual(expect.objectContaining({ id: lost.id, revoked_at: lost.revoked_at }));
    expect((await held(userId)).pending).toEqual([]);
    expect(await listedIds(tokens.access_token)).toEqual([sidOf(tokens)]);
    // The failed sign-in's login.succeeded (written with the row) was dropped: only the sign-up's is there.
    expect(await succeededSessions(userId)).toEqual([sidOf(tokens)]);
  });

  it("a sign-in's audit row is written in the batch that lists its session, once", async () => {
    const { email, password, tokens } = await signedInUser({}, "repair-audit");
    const userId = tokens.user.id as string;
    const second = await login(email, password, "repair-audit-2");
    expect(await succeededSessions(userId)).toEqual(expect.arrayContaining([sidOf(tokens), sidOf(second)]));
    expect(await succeededSessions(userId)).toHaveLength(2);
    const row = await env.DB.prepare("SELECT ip, details FROM audit_events WHERE action = 'login.succeeded' AND details LIKE ?")
      .bind(`%${sidOf(second)}%`)
      .first<{ ip: string | null; details: string }>();
    expect(JSON.parse(row!.details)).toMatchObject({ method: "password", device_id: "repair-audit-2" });
  });

  it("a revocation D1 refuses to stamp holds at once; the alarm stamps the row", async () => {
    const { email, password, tokens } = await signedInUser({}, "repair-3");
    const userId = tokens.user.id as string;
    const other = await login(email, password, "repair-4");

    await whileD1Refuses(userId, async () => {
      const res = await authed(tokens.access_token, `/auth/sessions/${sidOf(other)}`, { method: "DELETE" });
      expect(res.status).toBe(204);
    });

    await expectProblem(await post("/auth/refresh", { refresh_token: other.refresh_token, device_id: "repair-4" }), 401, "invalid_refresh_token");
    await expectProblem(await authed(other.access_token, "/users/me"), 401, "invalid_access_token");
    // Listed but ended: the safe way round, until the alarm.
    expect(await listedIds(tokens.access_token)).toContain(sidOf(other));
    expect((await held(userId)).pending).toEqual([expect.objectContaining({ id: sidOf(other), opened: null, attempts: 1 })]);

    expect(await runDurableObjectAlarm(userStub(userId))).toBe(true);
    expect(await listedIds(tokens.access_token)).toEqual([sidOf(tokens)]);
    expect((await held(userId)).pending).toEqual([]);
  });

  it("a last-use touch D1 refuses is written by the alarm", async () => {
    const { tokens, deviceId } = await signedInUser({}, "repair-5");
    const userId = tokens.user.id as string;
    const sid = sidOf(tokens);
    // A session older than a minute is due for a touch on its next refresh.
    await runInDurableObject(userStub(userId), (_instance, state) => {
      state.storage.sql.exec(`UPDATE sessions SET created_at = created_at - 61000 WHERE id = ?`, sid);
    });
    const before = (await listed(userId))[0]!.last_used_at;

    await whileD1Refuses(userId, async () => {
      expect((await post("/auth/refresh", { refresh_token: tokens.refresh_token, device_id: deviceId })).status).toBe(200);
      // The touch is written after the answer: wait until D1 has refused it.
      for (let i = 0; i < 100 && (await held(userId)).pending[0]?.attempts !== 1; i++) await new Promise((r) => setTimeout(r, 20));
    });
    const [touch] = (await held(userId)).pending;
    expect(touch).toMatchObject({ id: sid, attempts: 1, revoked_at: null });
    expect((await listed(userId))[0]!.last_used_at).toBe(before);

    expect(await runDurableObjectAlarm(userStub(userId))).toBe(true);
    expect((await listed(userId))[0]!.last_used_at).toBe(touch!.last_used_at);
    expect(touch!.last_used_at!).toBeGreaterThan(before);
  });
});
