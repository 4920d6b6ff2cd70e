// An object made before step-up holds a `sessions` table without auth_time and amr (nor the copies
// the last pair carried, access_auth_time and access_amr): when it starts
// again it gets the columns (once; starting again changes nothing), and its sessions read as
// auth_time 0 and amr [] (never a recent sign-in) and keep rotating.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SubjectStore } from "../../src/durable/subject-store";
import { upgradeSchema } from "../../src/durable/subject-storage";
import { T0 } from "./store-harness";

// The sessions table as objects made it before step-up.
const OLD_SESSIONS = `CREATE TABLE sessions (
  id TEXT PRIMARY KEY, device_id TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
  prev_hash TEXT, rotated_at INTEGER, access_jti TEXT NOT NULL, access_iat INTEGER NOT NULL,
  expires_at INTEGER NOT NULL, revoked_at INTEGER, created_at INTEGER NOT NULL)`;

const columns = (sql: SqlStorage) => sql.exec<{ name: string }>(`PRAGMA table_info(sessions)`).toArray().map((c) => c.name);

function oldObject() {
  return env.SUBJECTS.get(env.SUBJECTS.idFromName(`user:${crypto.randomUUID()}`));
}

describe("the sessions table of an object made before step-up", () => {
  it("gets auth_time and amr when the object starts, once", () =>
    runInDurableObject(oldObject(), (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec(OLD_SESSIONS);
      sql.exec(
        `INSERT INTO sessions (id, device_id, token_hash, access_jti, access_iat, expires_at, created_at) VALUES ('s1', 'd1', 'h0', 'j', 1, ?, ?)`,
        T0 + 3_600_000, T0,
      );
      expect(columns(sql)).not.toContain("auth_time");
      upgradeSchema(sql);
      upgradeSchema(sql);
      expect(columns(sql).filter((c) => c.includes("auth_time") || c.includes("amr"))).toEqual([
        "auth_time", "amr", "access_auth_time", "access_amr",
      ]);
      expect(sql.exec(`SELECT auth_time, amr FROM sessions WHERE id = 's1'`).one()).toEqual({ auth_time: 0, amr: "[]" });
    }));

  it("a started object rotates such a session with auth_time 0 and amr []", async () => {
    const userId = crypto.randomUUID();
    const stub = env.SUBJECTS.get(env.SUBJECTS.idFromName(`user:${userId}`));
    const now = Date.now();
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec(OLD_SESSIONS);
      sql.exec(
        `INSERT INTO sessions (id, device_id, token_hash, access_jti, access_iat, expires_at, created_at) VALUES ('s1', 'd1', 'h0', 'j', 1, ?, ?)`,
        now + 3_600_000, now,
      );
    });
    // What the runtime does when the object starts again: the constructor on the stored tables.
    const rotated = await runInDurableObject(stub, (_instance, state) =>
      new SubjectStore(state, env).rotateRefresh({
        userId, sessionId: "s1", presentedHash: "h0", successorHash: "h1", deviceId: "d1", now: now + 1000, graceMs: 10_000,
      }),
    );
    expect(rotated).toMatchObject({ ok: true, authTime: 0, amr: [] });
  });
});
