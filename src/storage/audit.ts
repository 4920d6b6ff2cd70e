import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import type { Position } from "../domain/pagination";
import type { Db } from "./db";
import { auditEvents } from "./schema";

export type AuditEventRow = typeof auditEvents.$inferSelect;

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
