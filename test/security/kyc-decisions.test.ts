// Invariant: a KYC application is decided once, by an administrator (never by its own user): any
// second decision, sequential or concurrent, answers 409 already_decided and changes nothing; and
// customers, providers and anonymous callers get 403 / 401 on every admin KYC route, documents
// included, whatever application they name.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  adminUser,
  applicationRowsOf,
  approve,
  authed,
  call,
  customerUser,
  expectProblem,
  kycStatusColumn,
  pendingApplication,
  pollUntil,
  providerUser,
  reject,
  submitOk,
  type Json,
} from "../helpers";

async function auditCount(subjectId: string, action: string, atLeast: number): Promise<number> {
  return pollUntil(
    async () => {
      const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_events WHERE subject_id = ? AND action = ?")
        .bind(subjectId, action)
        .first<{ n: number }>();
      return row!.n;
    },
    (n) => n >= atLeast,
  );
}

describe("a KYC application is decided once", () => {
  it("approve then approve: 409 already_decided", async () => {
    const admin = await adminUser();
    const { user, application } = await pendingApplication();
    expect((await approve(admin.token, application.id)).status).toBe(200);
    await expectProblem(await approve(admin.token, application.id), 409, "already_decided");
    expect(await applicationRowsOf(user.id)).toEqual([{ id: application.id, status: "APPROVED" }]);
  });

  it("approve then reject: 409, and the application and the user stay APPROVED", async () => {
    const admin = await adminUser();
    const other = await adminUser();
    const { user, application } = await pendingApplication();
    expect((await approve(admin.token, application.id)).status).toBe(200);
    await expectProblem(await reject(other.token, application.id, "Changed my mind"), 409, "already_decided");
    const row = await env.DB.prepare("SELECT status, rejection_reason, decided_by FROM kyc_applications WHERE id = ?")
      .bind(application.id)
      .first<Json>();
    expect(row).toEqual({ status: "APPROVED", rejection_reason: null, decided_by: admin.id });
    expect(await kycStatusColumn(user.id)).toBe("APPROVED");
  });

  it("reject then approve: 409, and the user stays REJECTED", async () => {
    const admin = await adminUser();
    const { user, application } = await pendingApplication();
    expect((await reject(admin.token, application.id, "Unreadable")).status).toBe(200);
    await expectProblem(await approve(admin.token, application.id), 409, "already_decided");
    expect(await kycStatusColumn(user.id)).toBe("REJECTED");
  });

  it("10 concurrent approvals: exactly one 200, one audit event", async () => {
    const admins = await Promise.all(Array.from({ length: 3 }, () => adminUser()));
    const { user, application } = await pendingApplication();
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => approve(admins[i % 3]!.token, application.id)));
    expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
    for (const res of answers.filter((r) => r.status !== 200)) await expectProblem(res, 409, "already_decided");
    expect(await kycStatusColumn(user.id)).toBe("APPROVED");
    expect(await auditCount(user.id, "kyc.approved", 1)).toBe(1);
  });

  it("approvals and rejections at once: one wins, and the user's status is the winner's", async () => {
    const admin = await adminUser();
    const { user, application } = await pendingApplication();
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? approve(admin.token, application.id) : reject(admin.token, application.id, "No"))),
    );
    const winners = answers.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    for (const res of answers.filter((r) => r.status !== 200)) await expectProblem(res, 409, "already_decided");
    const status = ((await winners[0]!.json()) as Json).application.status as string;
    expect(await applicationRowsOf(user.id)).toEqual([{ id: application.id, status }]);
    expect(await kycStatusColumn(user.id)).toBe(status);
  });

  it("an admin cannot decide their own application", async () => {
    const admin = await adminUser();
    const own = await submitOk(admin.token);
    await expectProblem(await approve(admin.token, own.id), 403, "forbidden");
    await expectProblem(await reject(admin.token, own.id, "self"), 403, "forbidden");
    expect(await applicationRowsOf(admin.id)).toEqual([{ id: own.id, status: "PENDING" }]);
  });

  it("an unknown application answers 404", async () => {
    const admin = await adminUser();
    await expectProblem(await approve(admin.token, crypto.randomUUID()), 404, "application_not_found");
    await expectProblem(await reject(admin.token, crypto.randomUUID(), "x"), 404, "application_not_found");
  });
});

describe("only administrators reach the admin KYC routes", () => {
  function adminCalls(applicationId: string, documentId: string): [string, RequestInit][] {
    const json = { "Content-Type": "application/json" };
    return [
      ["/admin/kyc", {}],
      ["/admin/kyc?status=APPROVED", {}],
      [`/admin/kyc/${applicationId}`, {}],
      [`/admin/kyc/${applicationId}/documents/${documentId}`, {}],
      [`/admin/kyc/${applicationId}/approve`, { method: "POST" }],
      [`/admin/kyc/${applicationId}/reject`, { method: "POST", headers: json, body: JSON.stringify({ reason: "no" }) }],
    ];
  }

  it("customers and providers get 403 forbidden, their own application and documents included", async () => {
    const { user: owner, application } = await pendingApplication();
    const customer = await customerUser();
    const provider = await providerUser();
    const document = application.documents[0].id as string;
    for (const caller of [customer, provider, owner]) {
      for (const [path, init] of adminCalls(application.id, document)) {
        await expectProblem(await authed(caller.token, path, init), 403, "forbidden");
      }
    }
    expect(await applicationRowsOf(owner.id)).toEqual([{ id: application.id, status: "PENDING" }]);
  });

  it("a provider with approved KYC is still not an admin", async () => {
    const admin = await adminUser();
    const provider = await providerUser();
    const own = await submitOk(provider.token);
    expect((await approve(admin.token, own.id)).status).toBe(200);
    const { application } = await pendingApplication();
    for (const [path, init] of adminCalls(application.id, application.documents[0].id)) {
      await expectProblem(await authed(provider.token, path, init), 403, "forbidden");
    }
  });

  it("anonymous callers and bad tokens get 401", async () => {
    const { application } = await pendingApplication();
    for (const [path, init] of adminCalls(application.id, application.documents[0].id)) {
      const anonymous = await call(path, init);
      expect(anonymous.headers.get("WWW-Authenticate")).toBe('Bearer realm="edge-auth"');
      await expectProblem(anonymous, 401, "invalid_access_token");
      const forged = await authed("forged.token.value", path, init);
      expect(forged.headers.get("WWW-Authenticate")).toBe('Bearer error="invalid_token"');
      await expectProblem(forged, 401, "invalid_access_token");
    }
  });

  it("a demoted admin loses access at once, with the same access token", async () => {
    const admin = await adminUser();
    const { application } = await pendingApplication();
    expect((await authed(admin.token, `/admin/kyc/${application.id}`)).status).toBe(200);
    await env.DB.prepare("UPDATE users SET role = 'CUSTOMER' WHERE id = ?").bind(admin.id).run();
    await expectProblem(await authed(admin.token, `/admin/kyc/${application.id}`), 403, "forbidden");
    await expectProblem(await approve(admin.token, application.id), 403, "forbidden");
  });
});
