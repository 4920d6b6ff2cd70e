import { and, desc, eq, lt, or, sql, type SQL } from "drizzle-orm";
import type { Position } from "../domain/pagination";
import { reusable, type Db } from "./db";
import { auditEvents } from "./schema";

export type AuditEventRow = typeof auditEvents.$inferSelect;

const COLUMNS = ["id", "at", "action", "actorId", "subjectId", "ip", "userAgent", "requestId", "details"] as const;

// The insert every audited request makes after its answer, built into SQL once per isolate: drizzle
// building it afresh cost more CPU than the rest of the write (docs/performance.md).
const insert = reusable((db: Db) => ({
  row: db
    .insert(auditEvents)
    .values(Object.fromEntries(COLUMNS.map((c) => [c, sql.placeholder(c)])) as unknown as typeof auditEvents.$inferInsert)
    .prepare(),
}));

/** Writes one audit row. */
export async function insertAuditEvent(db: Db, row: AuditEventRow): Promise<void> {
  await insert(db).row.run(row);
}

/** Audit events newest first, optionally about one subject and of one action, `limit` rows after `after`. */
export async function listAuditEvents(
  db: Db,
  input: { subjectId: string | null; action: string | null; after: Position | null; limit: number },
): Promise<AuditEventRow[]> {
  const filters: (SQL | undefined)[] = [];
  if (input.subjectId) filters.push(eq(auditEvents.subjectId, input.subjectId));
  if (input.action) filters.push(eq(auditEvents.action, input.action));
  if (input.after) {
    const { at, id } = input.after;
    filters.push(or(lt(auditEvents.at, at), and(eq(auditEvents.at, at), lt(auditEvents.id, id))));
  }
  return db
    .select()
    .from(auditEvents)
    .where(and(...filters))
    .orderBy(desc(auditEvents.at), desc(auditEvents.id))
    .limit(input.limit)
    .all();
}
