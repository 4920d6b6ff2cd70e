import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  adminUser,
  approve,
  authed,
  call,
  customerUser,
  expectProblem,
  JPEG,
  kycStatusColumn,
  objectKeysOf,
  PDF,
  PNG,
  reject,
  submitOk,
  submitValid,
  type Json,
} from "../helpers";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function statusOf(token: string): Promise<Json> {
  const res = await authed(token, "/kyc/status");
  expect(res.status).toBe(200);
  return res.json<Json>();
}

async function meOf(token: string): Promise<Json> {
  return (await authed(token, "/users/me")).json<Json>();
}

async function listPage(token: string, query: string): Promise<Json> {
  const res = await authed(token, `/admin/kyc${query}`);
  expect(res.status).toBe(200);
  return res.json<Json>();
}

describe("KYC submission and review", () => {
  it("starts as NOT_SUBMITTED with nulls", async () => {
    const user = await customerUser();
    expect(await statusOf(user.token)).toEqual({ status: "NOT_SUBMITTED", application: null, rejection_reason: null });
    expect((await meOf(user.token)).kyc_status).toBe("NOT_SUBMITTED");
  });

  it("submit answers 201 with the application, and the status shows PENDING everywhere", async () => {
    const user = await customerUser();
    const res = await submitValid(user.token);
    expect(res.status).toBe(201);
    const { application } = await res.json<Json>();
    expect(application).toMatchObject({ status: "PENDING", document_type: "passport", decided_at: null, rejection_reason: null });
    expect(application.id).toMatch(UUID);
    expect(new Date(application.submitted_at).toISOString()).toBe(application.submitted_at);
    expect(application.documents.map((d: Json) => [d.kind, d.content_type, d.size])).toEqual([
      ["front", "image/png", PNG.byteLength],
      ["back", "image/jpeg", JPEG.byteLength],
      ["selfie", "application/pdf", PDF.byteLength],
    ]);
    for (const d of application.documents) expect(Object.keys(d).sort()).toEqual(["content_type", "id", "kind", "size"]);

    const status = await statusOf(user.token);
    expect(status).toMatchObject({ status: "PENDING", rejection_reason: null });
    expect(status.application).toEqual(application);
    expect((await meOf(user.token)).kyc_status).toBe("PENDING");
  });

  it("stores each file in R2 under kyc/{user}/{application}/{document}, with its checked type as metadata", async () => {
    const user = await customerUser();
    const application = await submitOk(user.token);
    const expected = application.documents.map((d: Json) => `kyc/${user.id}/${application.id}/${d.id}`).sort();
    expect(await objectKeysOf(user.id)).toEqual(expected);
    const bytesByKind: Record<string, Uint8Array> = { front: PNG, back: JPEG, selfie: PDF };
    for (const d of application.documents) {
      const object = await env.KYC_BUCKET.get(`kyc/${user.id}/${application.id}/${d.id}`);
      expect(object).not.toBeNull();
      expect(object!.httpMetadata?.contentType).toBe(d.content_type);
      expect(object!.customMetadata).toMatchObject({ contentType: d.content_type, size: String(d.size), kind: d.kind });
      expect(new Uint8Array(await object!.arrayBuffer())).toEqual(bytesByKind[d.kind]);
    }
  });

  it("lets an admin list, read and download, with the document served privately as an attachment", async () => {
    const admin = await adminUser();
    const user = await customerUser();
    const application = await submitOk(user.token);

    const got = await authed(admin.token, `/admin/kyc/${application.id}`);
    expect(got.status).toBe(200);
    const { application: full } = await got.json<Json>();
    expect(full).toMatchObject({ id: application.id, status: "PENDING", documents: application.documents, decided_by: null });
    expect(full.user).toEqual({ id: user.id, email: user.email, phone: null, unverified_email: null, full_name: "Test User", role: "CUSTOMER", kyc_status: "PENDING" });

    const front = application.documents.find((d: Json) => d.kind === "front");
    const doc = await authed(admin.token, `/admin/kyc/${application.id}/documents/${front.id}`);
    expect(doc.status).toBe(200);
    expect(doc.headers.get("Content-Type")).toBe("image/png");
    expect(doc.headers.get("Cache-Control")).toBe("private, no-store");
    expect(doc.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(doc.headers.get("Content-Disposition")).toBe(`attachment; filename="${front.id}.png"`);
    expect(new Uint8Array(await doc.arrayBuffer())).toEqual(PNG);

    const selfie = application.documents.find((d: Json) => d.kind === "selfie");
    const pdf = await authed(admin.token, `/admin/kyc/${application.id}/documents/${selfie.id}`);
    expect(pdf.headers.get("Content-Type")).toBe("application/pdf");
    expect(pdf.headers.get("Content-Disposition")).toBe(`attachment; filename="${selfie.id}.pdf"`);
    expect(new Uint8Array(await pdf.arrayBuffer())).toEqual(PDF);
  });

  it("answers 404 for an unknown application or document, and for a document of another application", async () => {
    const admin = await adminUser();
    const a = await submitOk((await customerUser()).token);
    const b = await submitOk((await customerUser()).token);
    await expectProblem(await authed(admin.token, `/admin/kyc/${crypto.randomUUID()}`), 404, "application_not_found");
    await expectProblem(
      await authed(admin.token, `/admin/kyc/${a.id}/documents/${crypto.randomUUID()}`),
      404,
      "document_not_found",
    );
    await expectProblem(
      await authed(admin.token, `/admin/kyc/${a.id}/documents/${b.documents[0].id}`),
      404,
      "document_not_found",
    );
  });

  it("approve makes the application and the user APPROVED", async () => {
    const admin = await adminUser();
    const user = await customerUser();
    const application = await submitOk(user.token);
    const res = await approve(admin.token, application.id);
    expect(res.status).toBe(200);
    const body = await res.json<Json>();
    expect(body.application).toMatchObject({ id: application.id, status: "APPROVED", decided_by: admin.id, rejection_reason: null });
    expect(body.application.decided_at).toBeTruthy();
    expect(await statusOf(user.token)).toMatchObject({ status: "APPROVED", application: { id: application.id, status: "APPROVED" } });
    expect((await meOf(user.token)).kyc_status).toBe("APPROVED");
    // approved: no second application
    await expectProblem(await submitValid(user.token), 409, "kyc_application_open");
  });

  it("reject stores the reason, makes the user REJECTED, and lets them submit again", async () => {
    const admin = await adminUser();
    const user = await customerUser();
    const first = await submitOk(user.token);
    await expectProblem(await submitValid(user.token), 409, "kyc_application_open");
    await expectProblem(await reject(admin.token, first.id, ""), 400, "validation_error");
    await expectProblem(await reject(admin.token, first.id, "x".repeat(501)), 400, "validation_error");

    const res = await reject(admin.token, first.id, "The photo is blurred");
    expect(res.status).toBe(200);
    expect((await res.json<Json>()).application).toMatchObject({ status: "REJECTED", rejection_reason: "The photo is blurred" });
    expect(await statusOf(user.token)).toMatchObject({ status: "REJECTED", rejection_reason: "The photo is blurred" });
    expect((await meOf(user.token)).kyc_status).toBe("REJECTED");

    const second = await submitOk(user.token);
    expect(second.id).not.toBe(first.id);
    expect(await statusOf(user.token)).toMatchObject({ status: "PENDING", rejection_reason: null, application: { id: second.id } });
    expect(await kycStatusColumn(user.id)).toBe("PENDING");
  });

  it("pages through every pending application exactly once", async () => {
    const admin = await adminUser();
    const users = await Promise.all(Array.from({ length: 7 }, () => customerUser()));
    const submitted = new Set<string>();
    for (const u of users) submitted.add((await submitOk(u.token)).id);
    // One of them decided: it leaves the PENDING list.
    const decided = [...submitted][3]!;
    expect((await approve(admin.token, decided)).status).toBe(200);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?status=PENDING&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const page = await listPage(admin.token, query);
      expect(page.applications.length).toBeLessThanOrEqual(2);
      for (const a of page.applications) {
        expect(a.status).toBe("PENDING");
        expect(a.user).toMatchObject({ id: expect.stringMatching(UUID), email: expect.stringContaining("@") });
        seen.push(a.id);
      }
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 1000);

    expect(new Set(seen).size).toBe(seen.length);
    for (const id of submitted) {
      if (id === decided) expect(seen).not.toContain(id);
      else expect(seen).toContain(id);
    }
    const approved = await listPage(admin.token, "?status=APPROVED&limit=100");
    expect(approved.applications.map((a: Json) => a.id)).toContain(decided);
    // default status is PENDING
    const defaults = await listPage(admin.token, "?limit=100");
    expect(defaults.applications.every((a: Json) => a.status === "PENDING")).toBe(true);
  });

  it("refuses bad list queries", async () => {
    const admin = await adminUser();
    await expectProblem(await authed(admin.token, "/admin/kyc?limit=0"), 400, "validation_error");
    await expectProblem(await authed(admin.token, "/admin/kyc?limit=101"), 400, "validation_error");
    await expectProblem(await authed(admin.token, "/admin/kyc?status=OPEN"), 400, "validation_error");
    await expectProblem(await authed(admin.token, "/admin/kyc?cursor=not-a-cursor"), 400, "validation_error");
  });

  it("documents the KYC routes in the OpenAPI document", async () => {
    const doc = await (await call("/openapi.json")).json<Json>();
    const submit = doc.paths["/api/v1/kyc/submit"].post;
    expect(submit.tags).toEqual(["KYC"]);
    expect(submit.requestBody.content["multipart/form-data"]).toBeTruthy();
    expect(Object.keys(submit.responses)).toEqual(expect.arrayContaining(["201", "400", "401", "409", "413"]));
    const webhook = doc.paths["/api/v1/kyc/webhook"].post;
    expect(webhook.description).toContain("X-KYC-Timestamp");
    expect(webhook.description).toContain("X-KYC-Signature");
    expect(webhook.security).toBeUndefined();
    expect(doc.paths["/api/v1/admin/kyc/{id}/documents/{doc_id}"].get.tags).toEqual(["Admin"]);
    expect(doc.paths["/api/v1/admin/kyc/{id}/approve"].post.responses["403"]).toBeTruthy();
    expect(doc.paths["/api/v1/provider/dashboard"].get.tags).toEqual(["Provider"]);
  });
});
