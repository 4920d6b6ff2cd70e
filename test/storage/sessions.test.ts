// The sessions repository against real D1: what counts as active (not revoked, not expired, the
// user's own) and the order of the list. The rows are the user's SubjectStore's projection; its
// one-way merges are tried in test/durable/session-projection.test.ts.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../src/storage/db";
import { sessions } from "../../src/storage/schema";
import { findActiveSession, listActiveSessions, type Session } from "../../src/storage/sessions";
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
  await db.insert(sessions).values(row);
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
