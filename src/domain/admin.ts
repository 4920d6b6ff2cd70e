import { AppError } from "../errors";
import { patchRoleAndActivation, searchUsers, type AdminPatch } from "../storage/admin-users";

export type { AdminPatch };
import { listAuditEvents, type AuditEventRow } from "../storage/audit";
import { findUserById, type User } from "../storage/users";
import { readPage, type Page } from "./pagination";
import { revokedHere, userSubject, type Deps } from "./deps";

export function findUsers(deps: Deps, input: { query: string | null; cursor: string | null; limit: number }): Promise<Page<User>> {
  return readPage(
    input,
    (after, limit) => searchUsers(deps.db, { query: input.query, after, limit }),
    (u) => ({ at: u.createdAt, id: u.id }),
  );
}

/**
 * Changes a user's role or activation on an admin's behalf. The last active admin stays one (409
 * `last_admin`, decided atomically in storage). Deactivating ends every session at once: refresh
 * stops in the user's Durable Object and access tokens through the KV denylist. A role change
 * needs no revocation: requireRole reads the stored role on every request.
 */
export async function updateUserAsAdmin(deps: Deps, actorId: string, userId: string, patch: AdminPatch, now: number): Promise<User> {
  const result = await patchRoleAndActivation(deps.db, userId, patch, new Date(now));
  if (!result.ok) throw new AppError(result.reason === "not_found" ? "user_not_found" : "last_admin");
  const { before, after } = result;
  if (before.role !== after.role) {
    deps.audit({ action: "admin.role_changed", actorId, subjectId: userId, details: { from: before.role, to: after.role } });
  }
  // The user's Durable Object refuses new sessions and revokes the open ones in one step, so a
  // sign-in racing the deactivation cannot keep a session.
  let revoked = 0;
  if (patch.isActive !== undefined) {
    revoked = revokedHere(deps, await userSubject(deps, userId).setActive({ userId, active: patch.isActive, now })).revoked.length;
  }
  if (before.isActive !== after.isActive) {
    deps.audit({
      action: "admin.activation_changed",
      actorId,
      subjectId: userId,
      details: { from: before.isActive, to: after.isActive, sessions_revoked: revoked },
    });
  }
  return after;
}

/** Ends every session of a user (refresh and access tokens); returns how many were active. */
export async function revokeUserSessions(deps: Deps, actorId: string, userId: string, now: number): Promise<number> {
  const user = await findUserById(deps.db, userId);
  if (!user) throw new AppError("user_not_found");
  const { revoked } = revokedHere(deps, await userSubject(deps, userId).revokeSessions({ userId, ids: null, now }));
  deps.audit({ action: "admin.sessions_revoked", actorId, subjectId: userId, details: { revoked: revoked.length } });
  return revoked.length;
}

export function findAuditEvents(
  deps: Deps,
  input: { userId: string | null; action: string | null; cursor: string | null; limit: number },
): Promise<Page<AuditEventRow>> {
  return readPage(
    input,
    (after, limit) => listAuditEvents(deps.db, { subjectId: input.userId, action: input.action, after, limit }),
    (e) => ({ at: e.at, id: e.id }),
  );
}
