// Invariant: an account's deletion completes or can be resumed. When the erasure stops right after
// the KYC files were deleted from R2 (before any D1 row is erased), the account is already unusable:
// its access and refresh tokens and its password are refused. The daily housekeeping then finishes
// it (nothing of the user is left, the email signs up again), and running it again changes nothing.
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { deleteOwnAccount } from "../../src/domain/account-deletion";
import worker from "../../src/index";
import {
  customerUser,
  expectAccessRefused,
  expectNothingHolds,
  expectRefreshRefused,
  loginOutcome,
  objectKeysOf,
  signedInUser,
  submitOk,
  testDeps,
  type Json,
} from "../helpers";

/** The bucket, with deletes that happen and then fail: the worker "crashes" right after the R2 step. */
function crashingAfterDelete(bucket: R2Bucket): { bucket: R2Bucket; deletes: () => number } {
  let deletes = 0;
  const wrapped = new Proxy(bucket, {
    get(target, prop) {
      if (prop === "delete") {
        return async (keys: string | string[]) => {
          await target.delete(keys);
          deletes++;
          throw new Error("crash after the R2 delete");
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { bucket: wrapped, deletes: () => deletes };
}

async function rowsLeft(userId: string) {
  return env.DB.prepare(
    "SELECT (SELECT COUNT(*) FROM users WHERE id = ?1) AS users, (SELECT is_active FROM users WHERE id = ?1) AS active, (SELECT COUNT(*) FROM deletions WHERE user_id = ?1) AS marks, (SELECT COUNT(*) FROM kyc_applications WHERE user_id = ?1) AS applications",
  )
    .bind(userId)
    .first<{ users: number; active: number | null; marks: number; applications: number }>();
}

const runHousekeeping = () => worker.scheduled(createScheduledController({ cron: "17 3 * * *" }), env);

describe("a deletion interrupted after the R2 step", () => {
  it("leaves an account that cannot be used, and the housekeeping finishes it", async () => {
    const u = await customerUser();
    await submitOk(u.token);
    expect(await objectKeysOf(u.id)).toHaveLength(3);
    const { deps, settle } = testDeps();
    const crashing = crashingAfterDelete(env.KYC_BUCKET);

    // The route answers 204 after such a failure (the mark is the commit point); the domain call shows the state.
    await deleteOwnAccount(deps, crashing.bucket, u.id, Date.now());
    await settle();
    expect(crashing.deletes()).toBe(1);
    expect(await objectKeysOf(u.id)).toEqual([]);
    expect(await rowsLeft(u.id)).toEqual({ users: 1, active: 0, marks: 1, applications: 1 });

    // Half-deleted, but nothing lets anyone in.
    await expectAccessRefused(u.token);
    await expectRefreshRefused(u.tokens.refresh_token, u.deviceId);
    expect(await loginOutcome(u.email, u.password)).toEqual({ status: 403, code: "account_disabled" });
    const reactivated = await env.DB.prepare("SELECT COUNT(*) AS n FROM users WHERE id = ? AND is_active = 1").bind(u.id).first<{ n: number }>();
    expect(reactivated!.n).toBe(0);

    await runHousekeeping();
    expect(await rowsLeft(u.id)).toEqual({ users: 0, active: null, marks: 0, applications: 0 });
    // The refused login above wrote an audit row naming the address: the erasure scrubbed it too.
    await expectNothingHolds([u.email], [`user:${u.id}`, `email:${u.email}`]);
    const deleted = await env.DB.prepare("SELECT actor_id, details FROM audit_events WHERE subject_id = ? AND action = 'account.deleted'")
      .bind(u.id)
      .all<Json>();
    expect(deleted.results).toHaveLength(1);
    expect(deleted.results[0]).toMatchObject({ actor_id: u.id });
    expect(JSON.parse(deleted.results[0]!.details as string)).toMatchObject({ by: "self" });

    // Idempotent: another run finds nothing to do and writes nothing.
    const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_events WHERE subject_id = ?").bind(u.id).first<{ n: number }>();
    await runHousekeeping();
    const after = await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_events WHERE subject_id = ?").bind(u.id).first<{ n: number }>();
    expect(after).toEqual(before);

    const again = await signedInUser({ email: u.email }, "after-housekeeping");
    expect(again.tokens.user.id).not.toBe(u.id);
  });

  it("the housekeeping finishes a deletion whose erasure never started (only the mark was written)", async () => {
    const u = await customerUser();
    await submitOk(u.token);
    const { deps } = testDeps();
    // The mark alone, as if the worker stopped right after its batch: a bucket that fails at once.
    const failing = new Proxy(env.KYC_BUCKET, {
      get(target, prop) {
        if (prop === "list" || prop === "delete") return () => Promise.reject(new Error("R2 down"));
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    await deleteOwnAccount(deps, failing, u.id, Date.now());
    expect(await objectKeysOf(u.id)).toHaveLength(3);
    await expectRefreshRefused(u.tokens.refresh_token, u.deviceId);

    await runHousekeeping();
    expect(await objectKeysOf(u.id)).toEqual([]);
    expect(await rowsLeft(u.id)).toEqual({ users: 0, active: null, marks: 0, applications: 0 });
    await expectNothingHolds([u.email], [`user:${u.id}`, `email:${u.email}`]);
  });
});
