// The daily cron removes audit events older than the retention (180 days by default) and the
// session listing's rows of sessions that ended more than 30 days ago, and keeps the rest; each
// delete is a bounded batch picked through an index, repeated while batches come back full.
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { drizzle } from "drizzle-orm/d1";
import { PRUNE_BATCH, SESSION_HISTORY_DAYS } from "../../src/domain/retention";
import worker from "../../src/index";
import type { Db } from "../../src/storage/db";
import { deleteAuditEventsBefore, deleteSessionsEndedBefore } from "../../src/storage/retention";
import { signedInUser } from "../helpers";

const DAY = 86_400_000;

async function insertEvent(id: string, at: number) {
  await env.DB.prepare("INSERT INTO audit_events (id, at, action) VALUES (?, ?, 'login.failed')").bind(id, at).run();
}

async function insertSession(userId: string, ended: { expiresAt: number; revokedAt: number | null }) {
  const id = crypto.randomUUID();
  const created = Math.min(ended.expiresAt, ended.revokedAt ?? Infinity) - 5 * DAY;
  await env.DB.prepare(
    "INSERT INTO sessions (id, user_id, device_id, created_at, last_used_at, expires_at, revoked_at) VALUES (?, ?, 'd', ?, ?, ?, ?)",
  )
    .bind(id, userId, created, created, ended.expiresAt, ended.revokedAt)
    .run();
  return id;
}

const runCron = () => worker.scheduled(createScheduledController({ cron: "17 3 * * *" }), env);

async function present(table: "audit_events" | "sessions", ids: string[]) {
  const marks = ids.map(() => "?").join(", ");
  const rows = await env.DB.prepare(`SELECT id FROM ${table} WHERE id IN (${marks})`).bind(...ids).all<{ id: string }>();
  return new Set(rows.results.map((r) => r.id));
}

describe("scheduled housekeeping", () => {
  it("prunes audit events past the retention and keeps newer ones", async () => {
    const old = crypto.randomUUID();
    const recent = crypto.randomUUID();
    await insertEvent(old, Date.now() - 181 * DAY);
    await insertEvent(recent, Date.now() - 179 * DAY);
    await runCron();
    expect(await present("audit_events", [old, recent])).toEqual(new Set([recent]));
  });

  it("deletes a backlog larger than one batch in the same run, batch after batch", async () => {
    const total = PRUNE_BATCH * 2 + 500;
    const at = Date.now() - 400 * DAY;
    await env.DB.prepare(
      `INSERT INTO audit_events (id, at, action)
       WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       SELECT 'backlog-' || i, ?, 'login.failed' FROM n`,
    )
      .bind(total, at)
      .run();
    const keep = crypto.randomUUID();
    await insertEvent(keep, Date.now() - DAY);
    await runCron();
    const left = await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_events WHERE id LIKE 'backlog-%'").first<{ n: number }>();
    expect(left?.n).toBe(0);
    expect(await present("audit_events", [keep])).toEqual(new Set([keep]));
  });

  it("deletes the listing's rows of sessions that ended more than 30 days ago, revoked or expired, and keeps the others", async () => {
    const { tokens } = await signedInUser();
    const userId = tokens.user.id as string;
    const now = Date.now();
    const past = (days: number) => now - days * DAY;
    const gone = [
      await insertSession(userId, { expiresAt: past(SESSION_HISTORY_DAYS + 1), revokedAt: null }),
      await insertSession(userId, { expiresAt: now + 10 * DAY, revokedAt: past(SESSION_HISTORY_DAYS + 1) }),
    ];
    const kept = [
      await insertSession(userId, { expiresAt: past(SESSION_HISTORY_DAYS - 1), revokedAt: null }),
      await insertSession(userId, { expiresAt: now + 10 * DAY, revokedAt: past(SESSION_HISTORY_DAYS - 1) }),
      await insertSession(userId, { expiresAt: now + 10 * DAY, revokedAt: null }),
    ];
    await runCron();
    expect(await present("sessions", [...gone, ...kept])).toEqual(new Set(kept));
    // The session the sign-in opened is open: still listed.
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?").bind(userId, now).first<{ n: number }>())?.n).toBe(2);
  });

  it("finds what to delete through indexes, not by reading whole tables", async () => {
    // The DELETEs as drizzle renders them, recorded on their way to D1; their inner SELECT is planned.
    const statements: string[] = [];
    const recording = new Proxy(env.DB, {
      get: (target, prop) =>
        prop === "prepare" ? (query: string) => (statements.push(query), target.prepare(query)) : Reflect.get(target, prop, target),
    });
    const db = drizzle(recording);
    await deleteSessionsEndedBefore(db as unknown as Db, 0, 10);
    await deleteAuditEventsBefore(db as unknown as Db, 0, 10);
    const plans = await Promise.all(
      statements.map(async (query) => {
        const select = /\((SELECT .*)\)$/.exec(query)?.[1];
        expect(select, query).toBeDefined();
        const rows = await env.DB.prepare(`EXPLAIN QUERY PLAN ${select}`).bind(0, 10).all<{ detail: string }>();
        return rows.results.map((r) => r.detail).join("; ");
      }),
    );
    expect(plans[0]).toContain("sessions_ended_idx");
    expect(plans[1]).toContain("audit_at_idx");
    expect(plans.join(" ")).not.toMatch(/SCAN (sessions|audit_events)\b(?! USING)/);
  });
});
