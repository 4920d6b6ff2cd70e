import { loadConfig } from "./config";
import { pruneAudit } from "./domain/audit";
import { database } from "./storage/db";

/** The daily cron (wrangler.toml [triggers]): audit retention and storage housekeeping. */
export async function scheduled(_controller: ScheduledController, env: Env): Promise<void> {
  const config = loadConfig(env);
  const db = database(env.DB);
  const now = Date.now();
  const pruned = await pruneAudit(db, config.auditRetentionDays, now);
  console.log(JSON.stringify({ level: "info", event: "housekeeping", audit_pruned: pruned }));
}
