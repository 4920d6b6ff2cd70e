// Invariant: the KYC webhook applies a decision only for a request whose X-KYC-Signature is
// `sha256=` HMAC-SHA256(KYC_WEBHOOK_SECRET, "<X-KYC-Timestamp>.<raw body>") and whose timestamp is
// within 5 minutes either way; anything else is 401 invalid_signature and changes nothing. An event
// id is applied at most once, even when copies arrive together; an event for an application already
// decided is recorded and leaves it as it is.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import app from "../../src/app";
import {
  adminUser,
  approve,
  expectProblem,
  kycConfig,
  kycStatusColumn,
  nowSeconds,
  pendingApplication,
  pollUntil,
  url,
  type Json,
} from "../helpers";

const encoder = new TextEncoder();

async function sign(secret: string, timestamp: string, body: Uint8Array): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const message = new Uint8Array([...encoder.encode(`${timestamp}.`), ...body]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, message));
  return `sha256=${[...mac].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

const secret = () => kycConfig().webhookSecret!;

/** Calls the Worker and waits for its deferred work (audit writes), so counts afterwards are final. */
async function send(body: Uint8Array | string, headers: Record<string, string>, bindings: Env = env): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(url("/kyc/webhook"), { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body }),
    bindings,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

async function sendSigned(event: Json, options: { timestamp?: number; secret?: string } = {}): Promise<Response> {
  const body = encoder.encode(JSON.stringify(event));
  const timestamp = String(options.timestamp ?? nowSeconds());
  return send(body, { "X-KYC-Timestamp": timestamp, "X-KYC-Signature": await sign(options.secret ?? secret(), timestamp, body) });
}

function approvedEvent(applicationId: string): Json {
  return { id: `evt_${crypto.randomUUID()}`, type: "kyc.approved", application_id: applicationId };
}

async function applicationRow(id: string): Promise<Json> {
  return (await env.DB.prepare("SELECT status, rejection_reason, decided_by FROM kyc_applications WHERE id = ?").bind(id).first<Json>())!;
}

async function auditActions(subjectId: string): Promise<string[]> {
  const { results } = await env.DB.prepare("SELECT action FROM audit_events WHERE subject_id = ? AND action LIKE 'kyc.%' ORDER BY action")
    .bind(subjectId)
    .all<{ action: string }>();
  return results.map((r) => r.action);
}

async function eventRecorded(id: string): Promise<boolean> {
  return (await env.DB.prepare("SELECT id FROM webhook_events WHERE id = ?").bind(id).first()) !== null;
}

async function pending() {
  const submitted = await pendingApplication();
  // kyc.submitted is written after the submit response: wait for it, so later counts are exact.
  await pollUntil(
    () => auditActions(submitted.user.id),
    (actions) => actions.includes("kyc.submitted"),
  );
  return submitted;
}

describe("KYC webhook signature", () => {
  it("a correctly signed approval applies the decision", async () => {
    const { user, application } = await pending();
    const event = approvedEvent(application.id);
    const res = await sendSigned(event);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: true, duplicate: false, applied: true });
    expect(await applicationRow(application.id)).toEqual({ status: "APPROVED", rejection_reason: null, decided_by: `provider:${event.id}` });
    expect(await kycStatusColumn(user.id)).toBe("APPROVED");
    // Both events are written after the response, possibly in the same millisecond: order-free.
    expect((await auditActions(user.id)).sort()).toEqual(["kyc.approved", "kyc.submitted", "kyc.webhook_received"]);
  });

  it("a correctly signed rejection stores its reason", async () => {
    const { user, application } = await pending();
    const res = await sendSigned({ ...approvedEvent(application.id), type: "kyc.rejected", reason: "Document expired" });
    expect(res.status).toBe(200);
    expect(await applicationRow(application.id)).toMatchObject({ status: "REJECTED", rejection_reason: "Document expired" });
    expect(await kycStatusColumn(user.id)).toBe("REJECTED");
  });

  it("accepts a timestamp inside the 5-minute window either way", async () => {
    const early = await pending();
    expect((await sendSigned(approvedEvent(early.application.id), { timestamp: nowSeconds() - 295 })).status).toBe(200);
    const late = await pending();
    expect((await sendSigned(approvedEvent(late.application.id), { timestamp: nowSeconds() + 295 })).status).toBe(200);
  });

  it("refuses bad, foreign, mismatched, missing, stale and future signatures with 401 and no change", async () => {
    const { user, application } = await pending();
    const event = approvedEvent(application.id);
    const body = encoder.encode(JSON.stringify(event));
    const otherBody = encoder.encode(JSON.stringify({ ...event, type: "kyc.rejected" }));
    const ts = String(nowSeconds());
    const good = await sign(secret(), ts, body);
    const attempts: Record<string, Record<string, string>> = {
      "random hex": { "X-KYC-Timestamp": ts, "X-KYC-Signature": `sha256=${"ab".repeat(32)}` },
      "another secret": { "X-KYC-Timestamp": ts, "X-KYC-Signature": await sign("not-the-secret-at-all-0123456789", ts, body) },
      "a different body": { "X-KYC-Timestamp": ts, "X-KYC-Signature": await sign(secret(), ts, otherBody) },
      "a different timestamp": { "X-KYC-Timestamp": String(Number(ts) - 1), "X-KYC-Signature": good },
      "no sha256= prefix": { "X-KYC-Timestamp": ts, "X-KYC-Signature": good.slice("sha256=".length) },
      "no signature": { "X-KYC-Timestamp": ts },
      "no timestamp": { "X-KYC-Signature": good },
      "no headers": {},
      "a non-numeric timestamp": { "X-KYC-Timestamp": `${ts}.0`, "X-KYC-Signature": await sign(secret(), `${ts}.0`, body) },
    };
    for (const [label, headers] of Object.entries(attempts)) {
      const res = await send(body, headers);
      expect(res.status, label).toBe(401);
      await expectProblem(res, 401, "invalid_signature");
    }
    for (const offset of [-301, 301]) {
      const stale = String(nowSeconds() + offset);
      const res = await send(body, { "X-KYC-Timestamp": stale, "X-KYC-Signature": await sign(secret(), stale, body) });
      await expectProblem(res, 401, "invalid_signature");
    }
    expect(await applicationRow(application.id)).toMatchObject({ status: "PENDING", decided_by: null });
    expect(await kycStatusColumn(user.id)).toBe("PENDING");
    expect(await eventRecorded(event.id)).toBe(false);
    expect(await auditActions(user.id)).toEqual(["kyc.submitted"]);
  });

  it("answers 503 provider_not_configured when no secret is set", async () => {
    const { application } = await pending();
    const body = encoder.encode(JSON.stringify(approvedEvent(application.id)));
    const ts = String(nowSeconds());
    const res = await send(
      body,
      { "X-KYC-Timestamp": ts, "X-KYC-Signature": await sign(secret(), ts, body) },
      { ...env, KYC_WEBHOOK_SECRET: undefined } as Env,
    );
    await expectProblem(res, 503, "provider_not_configured");
    expect(await applicationRow(application.id)).toMatchObject({ status: "PENDING" });
  });

  it("checks the body only after the signature: signed garbage is 400, unknown applications 404", async () => {
    const ts = String(nowSeconds());
    const garbage = encoder.encode("{not json");
    await expectProblem(await send(garbage, { "X-KYC-Timestamp": ts, "X-KYC-Signature": await sign(secret(), ts, garbage) }), 400, "invalid_json");
    await expectProblem(await sendSigned({ id: "evt_x", type: "kyc.paused", application_id: crypto.randomUUID() }), 400, "validation_error");
    await expectProblem(await sendSigned(approvedEvent(crypto.randomUUID())), 404, "application_not_found");
  });
});

describe("KYC webhook events apply once", () => {
  it("the same event id twice: the second is a duplicate and changes nothing", async () => {
    const { user, application } = await pending();
    const event = approvedEvent(application.id);
    expect(await (await sendSigned(event)).json()).toEqual({ received: true, duplicate: false, applied: true });
    const after = await applicationRow(application.id);
    const audit = await auditActions(user.id);

    // A retry with a fresh timestamp, and a forged variant reusing the id: both duplicates.
    const again = await sendSigned(event, { timestamp: nowSeconds() + 5 });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ received: true, duplicate: true, applied: false });
    const flipped = await sendSigned({ ...event, type: "kyc.rejected", reason: "flip" });
    expect(await flipped.json()).toMatchObject({ duplicate: true, applied: false });

    expect(await applicationRow(application.id)).toEqual(after);
    expect(await kycStatusColumn(user.id)).toBe("APPROVED");
    expect(await auditActions(user.id)).toEqual(audit);
  });

  it("10 concurrent copies of one event apply once", async () => {
    const { user, application } = await pending();
    const event: Json = { ...approvedEvent(application.id), type: "kyc.rejected", reason: "Mismatch" };
    const answers = await Promise.all(Array.from({ length: 10 }, () => sendSigned(event)));
    const bodies = await Promise.all(answers.map((r) => r.json<Json>()));
    expect(answers.every((r) => r.status === 200)).toBe(true);
    expect(bodies.filter((b) => b.applied)).toHaveLength(1);
    expect(bodies.filter((b) => b.duplicate)).toHaveLength(9);
    expect(await applicationRow(application.id)).toMatchObject({ status: "REJECTED", rejection_reason: "Mismatch" });
    const actions = await auditActions(user.id);
    expect(actions.filter((a) => a === "kyc.rejected")).toHaveLength(1);
    expect(actions.filter((a) => a === "kyc.webhook_received")).toHaveLength(1);
  });

  it("an event for an application already decided is recorded and changes nothing", async () => {
    const admin = await adminUser();
    const { user, application } = await pending();
    expect((await approve(admin.token, application.id)).status).toBe(200);
    const event: Json = { ...approvedEvent(application.id), type: "kyc.rejected", reason: "Late" };
    const res = await sendSigned(event);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: true, duplicate: false, applied: false });
    expect(await applicationRow(application.id)).toEqual({ status: "APPROVED", rejection_reason: null, decided_by: admin.id });
    expect(await kycStatusColumn(user.id)).toBe("APPROVED");
    expect(await eventRecorded(event.id)).toBe(true);
    expect(await (await sendSigned(event)).json()).toMatchObject({ duplicate: true });
  });
});
