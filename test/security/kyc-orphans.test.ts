// Invariant: no KYC object outlives its submission. A submission whose upload fails deletes the
// objects it already put; and an object under kyc/ that no kyc_documents row names, uploaded more
// than an hour ago, is deleted by sweepOrphanKycObjects, while an object with a row, or one young
// enough to belong to a submission still in flight, is kept.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ORPHAN_GRACE_MS, sweepOrphanKycObjects } from "../../src/domain/kyc";
import { database } from "../../src/storage/db";
import {
  applicationRowsOf,
  customerUser,
  JPEG,
  kycStatusColumn,
  objectKeysOf,
  pause,
  PDF,
  PNG,
  submitOk,
  submitThroughDomain,
  testDeps,
  withPut,
} from "../helpers";

const HOUR = 60 * 60 * 1000;

async function exists(key: string): Promise<boolean> {
  return (await env.KYC_BUCKET.head(key)) !== null;
}

describe("orphan KYC objects", () => {
  it("deletes an old object with no row, keeps a fresh one and one with a row", async () => {
    const user = await customerUser();
    const application = await submitOk(user.token);
    const withRow = `kyc/${user.id}/${application.id}/${application.documents[0].id}`;
    const orphan = `kyc/${user.id}/${crypto.randomUUID()}/${crypto.randomUUID()}`;
    const outside = `elsewhere/${crypto.randomUUID()}`;
    await env.KYC_BUCKET.put(orphan, PNG);
    await env.KYC_BUCKET.put(outside, PNG);
    const store = { db: database(env.DB), bucket: env.KYC_BUCKET, kv: env.KV };

    // "now" is only minutes after the uploads: the orphan may still be a submission in flight.
    const early = await sweepOrphanKycObjects(store, Date.now() + 5 * 60 * 1000);
    expect(early.deleted).toBe(0);
    expect(await exists(orphan)).toBe(true);

    // An hour and a bit later: the orphan goes, the documented object and the foreign prefix stay.
    const later = await sweepOrphanKycObjects(store, Date.now() + HOUR + 60_000);
    expect(later.deleted).toBeGreaterThanOrEqual(1);
    expect(await exists(orphan)).toBe(false);
    expect(await exists(withRow)).toBe(true);
    expect(await exists(outside)).toBe(true);
    for (const d of application.documents) expect(await exists(`kyc/${user.id}/${application.id}/${d.id}`)).toBe(true);
  });

  it("uses a one-hour grace period by default", () => {
    expect(ORPHAN_GRACE_MS).toBe(HOUR);
  });

  it("walks every page of the listing", async () => {
    const prefix = `kyc/${crypto.randomUUID()}/${crypto.randomUUID()}`;
    const keys = Array.from({ length: 1005 }, (_, i) => `${prefix}/${i}`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => env.KYC_BUCKET.put(k, "x")));
    const result = await sweepOrphanKycObjects({ db: database(env.DB), bucket: env.KYC_BUCKET, kv: env.KV }, Date.now() + 2 * HOUR);
    expect(result.deleted).toBeGreaterThanOrEqual(1005);
    expect(result.finished).toBe(true);
    expect((await env.KYC_BUCKET.list({ prefix })).objects).toHaveLength(0);
  });

  it("reads a bounded number of pages a run and goes on from there the next run, then starts over", async () => {
    const store = { db: database(env.DB), bucket: env.KYC_BUCKET, kv: env.KV };
    const prefix = `kyc/${crypto.randomUUID()}/${crypto.randomUUID()}`;
    const keys = Array.from({ length: 2100 }, (_, i) => `${prefix}/${String(i).padStart(4, "0")}`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => env.KYC_BUCKET.put(k, "x")));
    const later = Date.now() + 2 * HOUR;
    const left = async () => (await env.KYC_BUCKET.list({ prefix })).objects.length;
    // The sweep lists the whole bucket, where earlier tests' objects may sort before these: the
    // marks it leaves are the 1000th and 2000th keys of that listing.
    const listing: string[] = [];
    for (let after: string | undefined; ; ) {
      const page = await env.KYC_BUCKET.list({ prefix: "kyc/", limit: 1000, ...(after ? { startAfter: after } : {}) });
      listing.push(...page.objects.map((o) => o.key));
      if (!page.truncated) break;
      after = listing.at(-1);
    }

    const first = await sweepOrphanKycObjects(store, later, { maxPages: 1 });
    expect(first).toMatchObject({ finished: false, scanned: 1000 });
    expect(await env.KV.get("kyc-sweep:after")).toBe(listing[999]);
    // The second run begins after the first one's last key, not at the top.
    const second = await sweepOrphanKycObjects(store, later, { maxPages: 1 });
    expect(second).toMatchObject({ finished: false, scanned: 1000 });
    expect(await env.KV.get("kyc-sweep:after")).toBe(listing[1999]);
    const rest = await sweepOrphanKycObjects(store, later, { maxPages: 10 });
    expect(rest.finished).toBe(true);
    expect(first.scanned + second.scanned + rest.scanned).toBeGreaterThanOrEqual(keys.length);
    expect(await left()).toBe(0);
    // Finished: the mark is gone and the next run lists from the top, where a new orphan sorts first.
    expect(await env.KV.get("kyc-sweep:after")).toBeNull();
    const firstKey = `kyc/0000${crypto.randomUUID()}/x`;
    await env.KYC_BUCKET.put(firstKey, "x");
    const again = await sweepOrphanKycObjects(store, later, { maxPages: 1 });
    expect(again.deleted).toBeGreaterThanOrEqual(1);
    expect(await exists(firstKey)).toBe(false);
  });

  it("a submission whose upload fails deletes the objects it already put and writes no row", async () => {
    const user = await customerUser();
    const { deps, settle } = testDeps();
    let puts = 0;
    const failing = withPut(env.KYC_BUCKET, async (args, put) => {
      // The second upload fails after the first has landed (files are put one at a time).
      if (++puts === 2) {
        await pause(50);
        throw new Error("R2 unavailable");
      }
      return put(...args);
    });
    const files = [
      { kind: "front" as const, bytes: PNG },
      { kind: "back" as const, bytes: JPEG },
      { kind: "selfie" as const, bytes: PDF },
    ];
    await expect(submitThroughDomain(deps, failing, user.id, files)).rejects.toThrow("R2 unavailable");
    await settle();
    // The third file is never stored: a failed put stops the submission.
    expect(puts).toBe(2);
    expect(await objectKeysOf(user.id)).toEqual([]);
    expect(await applicationRowsOf(user.id)).toEqual([]);
    expect(await kycStatusColumn(user.id)).toBe("NOT_SUBMITTED");
  });
});
