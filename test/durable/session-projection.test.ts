// The session projection (src/durable/session-projection.ts): the user's object records every change
// to a session's D1 row in its own SQLite before writing it, merged per session (a revocation stays,
// the last use only moves forward, the row to insert is kept until D1 has it); an entry leaves only
// when D1 took the version that was read; what D1 refuses is retried later and later; and a write
// D1 refuses for one session does not hold back the others.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { flushOutbox, RETRY_MS, SessionOutbox } from "../../src/durable/session-projection";
import { database } from "../../src/storage/db";
import { writeSessionProjections, type OpenedSession } from "../../src/storage/sessions";
import { insertUser } from "../../src/storage/users";
import { uniqueEmail } from "../helpers";
import { inFreshStore, MINUTE, refuseSessionWrites, T0 } from "./store-harness";

const DAY = 24 * 60 * MINUTE;
const CLOCK = T0 + 5 * DAY;
const ROW: OpenedSession = { deviceId: "d1", deviceName: "Phone", userAgent: "ua", ip: "192.0.2.1", createdAt: T0, expiresAt: T0 + 30 * DAY };

async function newUserId(): Promise<string> {
  const id = crypto.randomUUID();
  const user = { id, email: uniqueEmail("projection"), fullName: "P", role: "CUSTOMER" as const, passwordHash: null, isEmailVerified: true };
  await insertUser(database(env.DB), user, new Date());
  return id;
}

function d1Row(id: string) {
  return env.DB.prepare("SELECT * FROM sessions WHERE id = ?").bind(id).first<Record<string, unknown>>();
}

describe("SessionOutbox", () => {
  it("merges a session's changes into one entry", () =>
    inFreshStore((sql, schedule) => {
      const outbox = new SessionOutbox(sql, schedule);
      outbox.opened("u", "s", ROW, CLOCK);
      outbox.touched("u", "s", T0 + 2 * MINUTE, ROW.expiresAt, CLOCK);
      outbox.revoked("u", [{ id: "s", expiresAt: ROW.expiresAt }], T0 + 3 * MINUTE, CLOCK);
      outbox.revoked("u", [{ id: "s", expiresAt: ROW.expiresAt }], T0 + 4 * MINUTE, CLOCK);
      outbox.touched("u", "s", T0 + MINUTE, ROW.expiresAt, CLOCK);
      expect(outbox.pending(["s", "unknown"])).toEqual([
        { id: "s", userId: "u", version: 5, opened: ROW, revokedAt: T0 + 3 * MINUTE, lastUsedAt: T0 + 2 * MINUTE },
      ]);
      expect(outbox.all()).toHaveLength(1);
    }));

  it("lets an entry go only at the version that was written; a newer change stays, without its insert", () =>
    inFreshStore((sql, schedule) => {
      const outbox = new SessionOutbox(sql, schedule);
      outbox.opened("u", "s", ROW, CLOCK);
      const [read] = outbox.pending(["s"]);
      outbox.revoked("u", [{ id: "s", expiresAt: ROW.expiresAt }], T0 + MINUTE, CLOCK);
      outbox.settled([read!]);
      const [newer] = outbox.pending(["s"]);
      expect(newer).toMatchObject({ version: 2, opened: null, revokedAt: T0 + MINUTE });
      outbox.settled([newer!]);
      expect(outbox.all()).toEqual([]);
    }));

  it("asks the alarm for every entry's retry, and after each refusal retries twice as late, up to 10 minutes", () =>
    inFreshStore((sql, schedule, scheduled) => {
      const outbox = new SessionOutbox(sql, schedule);
      outbox.opened("u", "s", ROW, CLOCK);
      expect(scheduled).toContain(CLOCK + RETRY_MS);
      const retryAt = () => sql.exec<{ at: number }>(`SELECT retry_at AS at FROM session_outbox`).one().at;
      const waits: number[] = [];
      for (let i = 0; i < 7; i++) {
        outbox.failed(outbox.pending(["s"]), CLOCK);
        waits.push(retryAt() - CLOCK);
        expect(scheduled.at(-1)).toBe(retryAt());
      }
      expect(waits.map((ms) => ms / 1000)).toEqual([30, 60, 120, 240, 480, 600, 600]);
      // A new change is tried at once and, if refused again, retried soon: it pulls the retry in.
      outbox.touched("u", "s", T0 + MINUTE, ROW.expiresAt, CLOCK);
      expect(retryAt()).toBe(CLOCK + RETRY_MS);
    }));

  it("drops entries once their session has expired; a session it does not hold is retried for a day", () =>
    inFreshStore((sql, schedule) => {
      const outbox = new SessionOutbox(sql, schedule);
      outbox.opened("u", "held", ROW, CLOCK);
      outbox.revoked("u", [{ id: "unheld", expiresAt: undefined }], T0, CLOCK);
      outbox.prune(T0 + DAY);
      expect(outbox.all().map((e) => e.id)).toEqual(["held"]);
      outbox.prune(ROW.expiresAt);
      expect(outbox.all()).toEqual([]);
    }));
});

describe("writing the projection to D1", () => {
  it("merges monotonically: a late insert does not reopen a revoked row, a late touch does not move it back", async () => {
    const userId = await newUserId();
    const id = crypto.randomUUID();
    const db = database(env.DB);
    await writeSessionProjections(db, [{ id, userId, opened: ROW, revokedAt: null, lastUsedAt: T0 + 2 * MINUTE }]);
    expect(await d1Row(id)).toMatchObject({ user_id: userId, device_name: "Phone", ip: "192.0.2.1", created_at: T0, last_used_at: T0 + 2 * MINUTE, revoked_at: null });
    await writeSessionProjections(db, [{ id, userId, opened: null, revokedAt: T0 + 3 * MINUTE, lastUsedAt: null }]);
    await writeSessionProjections(db, [{ id, userId, opened: ROW, revokedAt: null, lastUsedAt: T0 }]);
    await writeSessionProjections(db, [{ id, userId, opened: null, revokedAt: T0 + 9 * MINUTE, lastUsedAt: T0 + MINUTE }]);
    expect(await d1Row(id)).toMatchObject({ last_used_at: T0 + 2 * MINUTE, revoked_at: T0 + 3 * MINUTE });
    // Another user's id does not reach the row.
    await writeSessionProjections(db, [{ id, userId: crypto.randomUUID(), opened: null, revokedAt: null, lastUsedAt: T0 + 5 * MINUTE }]);
    expect(await d1Row(id)).toMatchObject({ last_used_at: T0 + 2 * MINUTE });
  });

  it("keeps what D1 refused for a retry, and writes the other sessions' changes meanwhile", async () => {
    const [refused, accepted] = [await newUserId(), await newUserId()];
    const [s1, s2] = [crypto.randomUUID(), crypto.randomUUID()];
    const allow = await refuseSessionWrites(refused);
    try {
      await inFreshStore(async (sql, schedule) => {
        const outbox = new SessionOutbox(sql, schedule);
        outbox.opened(refused, s1, ROW, CLOCK);
        outbox.opened(accepted, s2, ROW, CLOCK);
        expect(await flushOutbox(outbox, database(env.DB))).toBe(false);
        expect(await d1Row(s1)).toBeNull();
        expect(await d1Row(s2)).toMatchObject({ user_id: accepted });
        expect(outbox.all()).toEqual([expect.objectContaining({ id: s1, opened: ROW })]);
        expect(sql.exec(`SELECT attempts FROM session_outbox`).one().attempts).toBe(1);

        await allow();
        expect(await flushOutbox(outbox, database(env.DB))).toBe(true);
        expect(await d1Row(s1)).toMatchObject({ user_id: refused, revoked_at: null });
        expect(outbox.all()).toEqual([]);
      });
    } finally {
      await allow();
    }
  });
});
