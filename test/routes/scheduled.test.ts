// The daily cron removes audit events older than the retention (180 days by default) and keeps
// the rest.
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";

const DAY = 86_400_000;

async function insertEvent(id: string, at: number) {
  await env.DB.prepare("INSERT INTO audit_events (id, at, action) VALUES (?, ?, 'login.failed')").bind(id, at).run();
}

describe("scheduled housekeeping", () => {
  it("prunes audit events past the retention and keeps newer ones", async () => {
    const old = crypto.randomUUID();
    const recent = crypto.randomUUID();
    await insertEvent(old, Date.now() - 181 * DAY);
    await insertEvent(recent, Date.now() - 179 * DAY);
    await worker.scheduled(createScheduledController({ cron: "17 3 * * *" }), env);
    const ids = (await env.DB.prepare("SELECT id FROM audit_events WHERE id IN (?, ?)").bind(old, recent).all<{ id: string }>()).results.map(
      (r) => r.id,
    );
    expect(ids).toEqual([recent]);
  });
});
