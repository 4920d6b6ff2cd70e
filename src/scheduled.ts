import { loadConfig } from "./config";
import { storesOf } from "./deps";
import { finishMarkedDeletions } from "./domain/account-deletion";
import { sweepOrphanKycObjects } from "./domain/kyc";
import { pruneAudit, pruneEndedSessions } from "./domain/retention";
import { database } from "./storage/db";

/**
 * The daily cron (wrangler.toml [triggers]): audit retention, the listing's long-ended sessions, the
 * sweep of KYC objects whose rows were never written, and the end of every account deletion that
 * was interrupted. Each job runs even
 * when another fails; a failure is logged and thrown so the run shows as failed.
 */
export async function scheduled(_controller: ScheduledController, env: Env): Promise<void> {
  const config = loadConfig(env);
  const db = database(env.DB);
  const now = Date.now();
  const [audit, sessions, kyc, deletions] = await Promise.allSettled([
    pruneAudit(db, config.auditRetentionDays, now),
    pruneEndedSessions(db, now),
    sweepOrphanKycObjects({ db, bucket: env.KYC_BUCKET, kv: env.KV }, now),
    finishMarkedDeletions(storesOf(config, env), env.KYC_BUCKET, now),
  ]);
  if (audit.status === "fulfilled") console.log(JSON.stringify({ level: "info", event: "audit_pruned", deleted: audit.value }));
  if (sessions.status === "fulfilled") console.log(JSON.stringify({ level: "info", event: "sessions_pruned", deleted: sessions.value }));
  if (kyc.status === "fulfilled") {
    console.log(JSON.stringify({ level: "info", event: "kyc_orphan_sweep", ...kyc.value }));
  }
  if (deletions.status === "fulfilled") {
    console.log(JSON.stringify({ level: "info", event: "deletions_finished", ...deletions.value }));
  }
  const failures = [audit, sessions, kyc, deletions].filter((r): r is PromiseRejectedResult => r.status === "rejected");
  for (const f of failures) console.error(JSON.stringify({ level: "error", event: "housekeeping_failed", error: String(f.reason) }));
  if (failures.length > 0) throw new Error(`${failures.length} housekeeping job(s) failed`);
}
