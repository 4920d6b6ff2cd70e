// The sessions repository against real D1: what counts as active (not revoked, not expired, the
// user's own), the order of the list, revocation of any number of sessions in one batch without
// touching another user's, and the last-used time.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../src/storage/db";
import { findActiveSession, insertSession, listActiveSessions, markSessionsRevoked, touchSession, type Session } from "../../src/storage/sessions";
import { insertUser } from "../../src/storage/users";
import { uniqueEmail } from "../helpers";

const db = database(env.DB);
const HOUR = 3_600_000;

async function newUserId(): Promise<string> {
  return (await insertUser(db, { id: crypto.randomUUID(), email: uniqueEmail("sessions") }, new Date())).id;
}

/** A session of `userId` started at `at`, valid for a day unless said otherwise. */
async function session(userId: string, at: number, fields: Partial<Session> = {}): Promise<Session> {
  const row: Session = {
    id: crypto.randomUUID(),
    userId,
    deviceId: "device",
    deviceName: null,
    userAgent: null,
    ip: null,
    createdAt: new Date(at),
    lastUsedAt: new Date(at),
    expiresAt: new Date(at + 24 * HOUR),
    revokedAt: null,
    ...fields,
  };
  await insertSession(db, row);
  return row;
}

const idsOf = (rows: { id: string }[]) => rows.map((r) => r.id);

describe("listActiveSessions and findActiveSession", () => {
  it("list the user's open sessions, most recently used first, and nothing revoked, expired or another user's", async () => {
    const userId = await newUserId();
    const other = await newUserId();
    const now = Date.now();
    const older = await session(userId, now - 3 * HOUR);
    const newer = await session(userId, now - 2 * HOUR, { lastUsedAt: new Date(now - 60_000) });
    const revoked = await session(userId, now - HOUR, { revokedAt: new Date(now - 1000) });
    const expired = await session(userId, now - 2 * HOUR, { expiresAt: new Date(now) });
    const foreign = await session(other, now - HOUR);

    expect(idsOf(await listActiveSessions(db, userId, new Date(now)))).toEqual([newer.id, older.id]);
    expect(await findActiveSession(db, userId, older.id, new Date(now))).toEqual(older);
    for (const gone of [revoked, expired]) expect(await findActiveSession(db, userId, gone.id, new Date(now))).toBeUndefined();
    // Another user's session is not found through this user, even by its exact id.
    expect(await findActiveSession(db, userId, foreign.id, new Date(now))).toBeUndefined();
    expect(await findActiveSession(db, other, foreign.id, new Date(now))).toEqual(foreign);
  });

  it("count a session as expired from its expiry time on, and open just before it", async () => {
    const userId = await newUserId();
    const start = Date.now();
    const row = await session(userId, start);
    const end = row.expiresAt.getTime();
    expect(await findActiveSession(db, userId, row.id, new Date(end - 1))).toEqual(row);
    expect(await findActiveSession(db, userId, row.id, new Date(end))).toBeUndefined();
    expect(await listActiveSessions(db, userId, new Date(end))).toEqual([]);
  });
});

describe("markSessionsRevoked", () => {
  it("revokes more sessions than one statement can bind (205 ids, D1 binds at most 100)", async () => {
    const userId = await newUserId();
    const now = Date.now();
    const rows = [];
    for (let i = 0; i < 205; i++) rows.push(await session(userId, now - i * 1000));

    await markSessionsRevoked(db, userId, idsOf(rows), new Date(now));
    expect(await listActiveSessions(db, userId, new Date(now))).toEqual([]);
    const revoked = await env.DB.prepare("SELECT COUNT(*) AS n FROM sessions WHERE user_id = ? AND revoked_at = ?")
      .bind(userId, now)
      .first<{ n: number }>();
    expect(revoked!.n).toBe(205);
  });

  it("touches only the user's own sessions, keeps an earlier revocation's time, and does nothing for no ids", async () => {
    const userId = await newUserId();
    const other = await newUserId();
    const now = Date.now();
    const earlier = new Date(now - HOUR);
    const open = await session(userId, now - 2 * HOUR);
    const already = await session(userId, now - 2 * HOUR, { revokedAt: earlier });
    const foreign = await session(other, now - 2 * HOUR);

    await markSessionsRevoked(db, userId, [], new Date(now));
    expect(idsOf(await listActiveSessions(db, userId, new Date(now)))).toEqual([open.id]);

    await markSessionsRevoked(db, userId, [open.id, already.id, foreign.id], new Date(now));
    const revokedAt = async (id: string) =>
      (await env.DB.prepare("SELECT revoked_at FROM sessions WHERE id = ?").bind(id).first<{ revoked_at: number | null }>())!.revoked_at;
    expect(await revokedAt(open.id)).toBe(now);
    expect(await revokedAt(already.id)).toBe(earlier.getTime());
    expect(await revokedAt(foreign.id)).toBeNull();
    expect(idsOf(await listActiveSessions(db, other, new Date(now)))).toEqual([foreign.id]);
  });
});

describe("touchSession", () => {
  it("moves last_used_at and nothing else", async () => {
    const userId = await newUserId();
    const start = Date.now() - HOUR;
    const row = await session(userId, start);
    const later = new Date(start + 30 * 60_000);
    await touchSession(db, row.id, later);
    expect(await findActiveSession(db, userId, row.id, new Date())).toEqual({ ...row, lastUsedAt: later });
  });
});
