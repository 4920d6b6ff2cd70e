// Invariant: a user has at most one KYC application that is PENDING or APPROVED, however many
// submissions arrive at once: one 201, every other answer 409 kyc_application_open (or 429
// rate_limited while the winner's upload is still in flight), one PENDING row, and R2 keeps only
// the winner's objects (the losers' uploads are deleted).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  adminUser,
  applicationRowsOf,
  approve,
  customerUser,
  documentCountOf,
  expectProblem,
  JPEG,
  kycStatusColumn,
  objectKeysOf,
  PNG,
  reject,
  submitThroughDomain,
  submitValid,
  testDeps,
  withPut,
  type Json,
} from "../helpers";

async function burst(token: string, n: number): Promise<{ created: Json[]; conflicts: number }> {
  const answers = await Promise.all(Array.from({ length: n }, () => submitValid(token)));
  const created: Json[] = [];
  let conflicts = 0;
  for (const res of answers) {
    if (res.status === 201) {
      created.push(((await res.json()) as Json).application as Json);
    } else {
      // A submission that arrives while another of the user's is in flight is refused before it
      // is read (429, test/security/kyc-upload-limits.test.ts); one that arrives after, with 409.
      expect([409, 429]).toContain(res.status);
      await expectProblem(res, res.status, res.status === 429 ? "rate_limited" : "kyc_application_open");
      conflicts++;
    }
  }
  return { created, conflicts };
}

describe("one open KYC application per user", () => {
  it("10 parallel submissions: one 201, nine refused, one PENDING row, only the winner's objects", async () => {
    const user = await customerUser();
    const { created, conflicts } = await burst(user.token, 10);
    expect(created).toHaveLength(1);
    expect(conflicts).toBe(9);

    const winner = created[0]!;
    expect(await applicationRowsOf(user.id)).toEqual([{ id: winner.id, status: "PENDING" }]);
    expect(await documentCountOf(user.id)).toBe(3);
    expect(await kycStatusColumn(user.id)).toBe("PENDING");
    const expected = winner.documents.map((d: Json) => `kyc/${user.id}/${winner.id}/${d.id}`).sort();
    expect(await objectKeysOf(user.id)).toEqual(expected);
  });

  it("after approval, a burst of new submissions is refused entirely and uploads nothing", async () => {
    const admin = await adminUser();
    const user = await customerUser();
    const first = await burst(user.token, 1);
    expect((await approve(admin.token, first.created[0]!.id)).status).toBe(200);
    const before = await objectKeysOf(user.id);

    const { created, conflicts } = await burst(user.token, 5);
    expect(created).toHaveLength(0);
    expect(conflicts).toBe(5);
    expect(await applicationRowsOf(user.id)).toEqual([{ id: first.created[0]!.id, status: "APPROVED" }]);
    expect(await objectKeysOf(user.id)).toEqual(before);
    expect(await kycStatusColumn(user.id)).toBe("APPROVED");
  });

  it("after a rejection, one new application wins a burst; the rejected one is kept", async () => {
    const admin = await adminUser();
    const user = await customerUser();
    const first = (await burst(user.token, 1)).created[0]!;
    expect((await reject(admin.token, first.id, "Expired document")).status).toBe(200);

    const { created, conflicts } = await burst(user.token, 6);
    expect(created).toHaveLength(1);
    expect(conflicts).toBe(5);
    const rows = await applicationRowsOf(user.id);
    expect(rows).toHaveLength(2);
    expect(rows).toEqual(
      expect.arrayContaining([
        { id: first.id, status: "REJECTED" },
        { id: created[0]!.id, status: "PENDING" },
      ]),
    );
    expect(await objectKeysOf(user.id)).toHaveLength(6);
    expect(await kycStatusColumn(user.id)).toBe("PENDING");
  });

  it("losers that got past the early check and uploaded have their objects deleted", async () => {
    const user = await customerUser();
    const { deps, settle } = testDeps();
    const n = 10;
    let puts = 0;
    let release!: () => void;
    const allUploading = new Promise<void>((r) => (release = r));
    // Every submission stores its first object only once all of them have passed the early check,
    // so the partial unique index alone decides the winner.
    const bucket = withPut(env.KYC_BUCKET, async (args, put) => {
      if (++puts === n) release();
      await allUploading;
      return put(...args);
    });
    const files = [
      { kind: "front" as const, bytes: PNG },
      { kind: "back" as const, bytes: JPEG },
    ];
    const results = await Promise.allSettled(Array.from({ length: n }, () => submitThroughDomain(deps, bucket, user.id, files)));
    await settle();
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r) => r.status === "rejected");
    expect(puts).toBe(n * 2);
    expect(won).toHaveLength(1);
    for (const r of lost) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: "kyc_application_open", status: 409 });
    const winner = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof submitThroughDomain>>>).value;
    expect(await objectKeysOf(user.id)).toEqual(winner.documents.map((d) => d.r2Key).sort());
    expect(await applicationRowsOf(user.id)).toEqual([{ id: winner.id, status: "PENDING" }]);
  });
});
