import { and, desc, eq, lt, or, sql, type SQL } from "drizzle-orm";
import type { Db } from "./db";
import { writingUsers } from "./hot-cache";
import { deletions, users } from "./schema";
import type { User } from "./users";
import type { Position } from "../domain/pagination";

/** `%`, `_` and the escape character itself match literally (LIKE … ESCAPE '\'). */
export function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

const SEARCHED = [users.email, users.unverifiedEmail, users.username, users.phone, users.fullName, users.firstName, users.lastName];

/**
 * Users whose email, username, phone or name contains `query` (SQLite's LIKE ignores ASCII case),
 * newest first, `limit` rows after `after`.
 */
export async function searchUsers(db: Db, input: { query: string | null; after: Position | null; limit: number }): Promise<User[]> {
  const filters: (SQL | undefined)[] = [];
  if (input.query) {
    const pattern = likeContains(input.query);
    filters.push(or(...SEARCHED.map((column) => sql`${column} LIKE ${pattern} ESCAPE '\\'`)));
  }
  if (input.after) {
    const { at, id } = input.after;
    filters.push(or(lt(users.createdAt, at), and(eq(users.createdAt, at), lt(users.id, id))));
  }
  return db
    .select()
    .from(users)
    .where(and(...filters))
    .orderBy(desc(users.createdAt), desc(users.id))
    .limit(input.limit)
    .all();
}

export type AdminPatch = { role?: User["role"]; isActive?: boolean };

export type AdminPatchResult =
  | { ok: true; before: User; after: User }
  | { ok: false; reason: "not_found" | "last_admin" };

/**
 * Changes a user's role and activation. A change that takes away an active admin is refused when
 * that admin is the last one, checked in the UPDATE itself: D1 runs one write at a time, so two
 * admins demoting each other at once cannot both pass. The read before it shares the batch's
 * transaction, which tells an unknown user from a refused change and gives the old values.
 */
export async function patchRoleAndActivation(db: Db, id: string, patch: AdminPatch, now: Date): Promise<AdminPatchResult> {
  const removesAdmin = (patch.role !== undefined && patch.role !== "ADMIN") || patch.isActive === false;
  const keepsAnAdmin = removesAdmin
    ? sql`NOT (${users.role} = 'ADMIN' AND ${users.isActive} = 1 AND
        (SELECT COUNT(*) FROM users AS admins WHERE admins.role = 'ADMIN' AND admins.is_active = 1) <= 1)`
    : undefined;
  // An account marked for deletion is gone for admins: it is never reactivated or changed.
  const notDeleted = sql`NOT EXISTS (SELECT 1 FROM ${deletions} WHERE ${deletions.userId} = ${users.id})`;
  const changes: Partial<typeof users.$inferInsert> = { updatedAt: now };
  if (patch.role !== undefined) changes.role = patch.role;
  if (patch.isActive !== undefined) changes.isActive = patch.isActive;
  const [found, updated] = await writingUsers(
    [id],
    db.batch([
      db.select().from(users).where(and(eq(users.id, id), notDeleted)),
      db
        .update(users)
        .set(changes)
        .where(and(eq(users.id, id), notDeleted, keepsAnAdmin))
        .returning(),
    ]),
  );
  const before = found[0];
  if (!before) return { ok: false, reason: "not_found" };
  const after = updated[0];
  if (!after) return { ok: false, reason: "last_admin" };
  return { ok: true, before, after };
}
