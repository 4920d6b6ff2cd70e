import { and, desc, eq, lt, or, sql, type SQL } from "drizzle-orm";
import type { Position } from "../domain/pagination";
import { boundStatement, reusable, type Db } from "./db";
import { auditEvents } from "./schema";

export type AuditEventRow = typeof auditEvents.$inferSelect;

/** An audit row as it travels to a Durable Object and waits in its outbox: `at` in ms. */
export type AuditRecord = Omit<AuditEventRow, "at"> & { at: number };

const COLUMNS = ["id", "at", "action", "actorId", "subjectId", "ip", "userAgent", "requestId", "details"] as const;

// The insert every audited request makes after its answer, built into SQL once per isolate: drizzle
// building it afresh cost more CPU than the rest of the write (docs/performance.md).
const placeholders = () => Object.fromEntries(COLUMNS.map((c) => [c, sql.placeholder(c)])) as unknown as typeof auditEvents.$inferInsert;
const insert = reusable((db: Db) => ({
  row: db.insert(auditEvents).values(placeholders()).prepare(),
  // Written with another write that may be retried (the session row a sign-in lists): once only.
  once: db.insert(auditEvents).values(placeholders()).onConflictDoNothing({ target: auditEvents.id }).prepare(),
}));

/** Writes one audit row. */
export async function insertAuditEvent(db: Db, row: AuditEventRow): Promise<void> {
  await insert(db).row.run(row);
}

/** The statement that writes `record` unless its row is there already, for a caller's batch. */
export function auditInsertOnce(db: Db, record: AuditRecord): D1PreparedStatement {
  return boundStatement(insert(db).once, { ...record, at: new Date(record.at) });
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
