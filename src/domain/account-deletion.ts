import { AppError } from "../errors";
import { eraseAccountRows, findDeletion, listDeletions, markDeletion } from "../storage/deletions";
import { deleteKycObjectsOfUser } from "../storage/kyc-objects";
import { auditRow } from "./audit";
import type { Deps, LinkKind } from "./deps";

// Deleting an account (GDPR art. 17): one operation that completes or can be resumed. MARK first, in
// one D1 batch: the account is inactive (no sign-in, no refresh) and a `deletions` row records it.
// THEN ERASE, every step idempotent: sessions revoked in the user's Durable Object (the KV denylist
// ends their access tokens at once), KYC files deleted from R2, the emailed links in KV and the
// address objects (`email:`, `phone:`) of the user's addresses forgotten, the user's own object
// forgotten, and last the D1 rows erased with the mark in one batch. A crash anywhere leaves a
// marked, inactive account, which the daily housekeeping (src/scheduled.ts) finishes.

/** What the erasure needs: no request context, so the scheduled handler can run it. */
export type ErasureDeps = Pick<Deps, "db" | "subjects" | "links" | "revocations">;

/** Code purposes whose emailed link has a KV record (src/domain/registration.ts, password-reset.ts). */
const LINK_KINDS: Record<string, LinkKind> = { register: "verify", reset: "reset" };

/** How many marked accounts one housekeeping run finishes at most. */
const HOUSEKEEPING_BATCH = 100;

/** `DELETE /users/me`: the user deletes their own account (the route has checked a recent sign-in). */
export async function deleteOwnAccount(deps: Deps, bucket: R2Bucket, userId: string, now: number): Promise<void> {
  const marked = await markDeletion(deps.db, userId, userId, new Date(now));
  // A token whose user is gone is no token; the last admin must hand over first.
  if (!marked.ok) throw new AppError(marked.reason === "not_found" ? "invalid_access_token" : "last_admin");
  await eraseNowOrLater(deps, bucket, userId, now);
}

/** `DELETE /admin/users/{id}`: audited with the admin as actor; an account already marked is finished. */
export async function deleteUserAsAdmin(deps: Deps, bucket: R2Bucket, actorId: string, userId: string, now: number): Promise<void> {
  const marked = await markDeletion(deps.db, userId, actorId, new Date(now));
  if (!marked.ok) throw new AppError(marked.reason === "not_found" ? "user_not_found" : "last_admin");
  // An admin deleting themselves leaves only the account.deleted row, which carries no address.
  if (actorId !== userId) deps.audit({ action: "admin.user_deleted", actorId, subjectId: userId, details: { role: marked.user.role } });
  await eraseNowOrLater(deps, bucket, userId, now);
}

/**
 * The mark is the commit point: once it is written the account can no longer be used, and the
 * erasure is finished here or, if a step fails, by the housekeeping. So the caller is answered 204
 * either way; the failure is logged.
 */
async function eraseNowOrLater(deps: ErasureDeps, bucket: R2Bucket, userId: string, now: number): Promise<void> {
  try {
    await finishDeletion(deps, bucket, userId, now);
  } catch (err) {
    console.error(JSON.stringify({ level: "error", event: "deletion_interrupted", user_id: userId, error: String(err) }));
  }
}

/** Finishes the deletion of a marked account; false when the account is not marked (done or never asked). */
export async function finishDeletion(deps: ErasureDeps, bucket: R2Bucket, userId: string, now: number): Promise<boolean> {
  const found = await findDeletion(deps.db, userId);
  if (!found) return false;
  const { deletion, user, identityEmails } = found;
  const emails = unique([user?.email, user?.unverifiedEmail, ...identityEmails]);
  const phones = unique([user?.phone]);
  const own = deps.subjects.user(userId);
  // 1. Every session ends at once, as on deactivation: refresh in the object, access tokens in KV.
  deps.revocations.revoked((await own.setActive({ userId, active: false, now })).revoked);
  // 2. The KYC files.
  await deleteKycObjectsOfUser(bucket, userId);
  // 3. The records kept under the user's addresses: emailed links in KV, then the objects' codes,
  //    counters and pending registrations.
  for (const subject of [...emails.map((e) => deps.subjects.email(e)), ...phones.map((p) => deps.subjects.phone(p))]) {
    for (const link of await subject.heldLinks()) {
      const kind = LINK_KINDS[link.purpose];
      if (kind) await deps.links.delete(kind, link.linkHash);
    }
    await subject.forget();
  }
  //    and the links whose code was used instead, which live until their TTL.
  await deps.links.forgetAddresses(emails);
  // 4. The user's own object: sessions (device names, user agents, IPs), codes, challenges.
  await own.forget();
  // 5. The rows, and the mark, in one batch.
  const by = deletion.requestedBy === userId ? "self" : "admin";
  await eraseAccountRows(deps.db, {
    userId,
    addresses: { emails, phones },
    audit: auditRow(
      {
        action: "account.deleted",
        actorId: deletion.requestedBy,
        subjectId: userId,
        details: { by, requested_at: deletion.requestedAt.toISOString() },
      },
      { ip: null, userAgent: null, requestId: null },
      now,
    ),
  });
  return true;
}

/** The housekeeping's part: finishes every marked account (each on its own; one failure stops no other). */
export async function finishMarkedDeletions(deps: ErasureDeps, bucket: R2Bucket, now: number): Promise<{ finished: number; failed: number }> {
  let finished = 0;
  let failed = 0;
  for (const deletion of await listDeletions(deps.db, HOUSEKEEPING_BATCH)) {
    try {
      if (await finishDeletion(deps, bucket, deletion.userId, now)) finished++;
    } catch (err) {
      failed++;
      console.error(JSON.stringify({ level: "error", event: "deletion_not_finished", user_id: deletion.userId, error: String(err) }));
    }
  }
  return { finished, failed };
}

function unique(values: (string | null | undefined)[]): string[] {
  return [...new Set(values.filter((v): v is string => Boolean(v)))];
}
