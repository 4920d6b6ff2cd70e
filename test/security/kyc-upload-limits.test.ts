// Invariant: a KYC upload never makes the server hold more than one file of KYC_MAX_FILE_BYTES,
// and a user has at most one upload in flight. A declared Content-Length over the upload limit is
// refused with 413 before a byte is read; a file passing the per-file limit, or a part outside the
// form, stops the read at once (the rest of the body is never read), with or without
// Content-Length; a second upload by the same user while one is in flight is 429 rate_limited with
// Retry-After, and the slot is free again as soon as the first one answers; a refused upload
// stores nothing in D1 or R2.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { UPLOAD_SLOT_MS } from "../../src/domain/kyc-submission";
import { kycUploadLimit } from "../../src/routes/kyc";
import {
  applicationRowsOf,
  authed,
  customerUser,
  expectNothingStored,
  expectProblem,
  JPEG,
  kycConfig,
  kycStatusColumn,
  objectKeysOf,
  PDF,
  PNG,
  submitValid,
  userSubject,
  type Json,
} from "../helpers";

const BOUNDARY = "kyc-upload-limits-boundary";
const CHUNK = 64 * 1024;
const MiB = 1024 * 1024;
const encode = (s: string) => new TextEncoder().encode(s);

type Part = { name: string; filename?: string; head?: Uint8Array; bytes: number } | { name: string; value: string };

/** The pieces of a multipart body, produced one 64 KiB chunk at a time: never one big buffer. */
async function* pieces(parts: Part[], gate?: Promise<void>): AsyncGenerator<Uint8Array> {
  for (const part of parts) {
    if ("value" in part) {
      yield encode(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${part.name}"\r\n\r\n${part.value}\r\n`);
      continue;
    }
    const filename = part.filename ?? `${part.name}.bin`;
    yield encode(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${part.name}"; filename="${filename}"\r\n\r\n`);
    const head = part.head ?? new Uint8Array(0);
    if (head.byteLength > 0) yield head;
    for (let left = part.bytes - head.byteLength; left > 0; left -= CHUNK) yield new Uint8Array(Math.min(CHUNK, left));
    yield encode("\r\n");
  }
  // A held body stops just before its closing boundary until the test lets it finish.
  await gate;
  yield encode(`--${BOUNDARY}--\r\n`);
}

/** A streamed body (no Content-Length) that counts what the server pulled from it. */
function streamedBody(parts: Part[], gate?: Promise<void>) {
  const source = pieces(parts, gate);
  const stats = { pulled: 0, total: 0 };
  for (const part of parts) stats.total += "value" in part ? part.value.length : part.bytes;
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await source.next();
        if (next.done) return controller.close();
        stats.pulled += next.value.byteLength;
        controller.enqueue(next.value);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, stats };
}

function upload(token: string, body: BodyInit, headers: Record<string, string> = {}): Promise<Response> {
  return authed(token, "/kyc/submit", {
    method: "POST",
    headers: { "Content-Type": `multipart/form-data; boundary=${BOUNDARY}`, ...headers },
    body,
  });
}

describe("KYC uploads are bounded before and while they are read", () => {
  it("refuses a declared Content-Length over the upload limit with 413 before reading a byte", async () => {
    const user = await customerUser();
    const limit = kycUploadLimit(loadConfig(env));
    const { stream, stats } = streamedBody([
      { name: "document_type", value: "passport" },
      { name: "front", head: PNG, bytes: limit },
    ]);
    const res = await upload(user.token, stream, { "Content-Length": String(limit + 1) });
    await expectProblem(res, 413, "payload_too_large");
    expect(stats.pulled).toBeLessThanOrEqual(CHUNK);
    await expectNothingStored(user.id);
  });

  it("stops reading a streamed body (no Content-Length) as soon as a file passes KYC_MAX_FILE_BYTES", async () => {
    const user = await customerUser();
    const max = kycConfig().maxFileBytes;
    // Under the body limit as a whole: only the per-file limit can stop it early.
    const { stream, stats } = streamedBody([
      { name: "document_type", value: "passport" },
      { name: "front", head: PNG, bytes: Math.floor(2.5 * max) },
    ]);
    const res = await upload(user.token, stream);
    const body = await expectProblem(res, 400, "invalid_document");
    expect(body.errors.map((e: Json) => e.path)).toEqual(["front"]);
    expect(stats.pulled).toBeLessThan(max + 2 * MiB);
    await expectNothingStored(user.id);
  });

  it("stops at once at a part outside the form, before reading its bytes, and deletes what was stored", async () => {
    const user = await customerUser();
    const { stream, stats } = streamedBody([
      { name: "document_type", value: "passport" },
      { name: "front", head: PNG, bytes: PNG.byteLength },
      { name: "passport_scan", head: PNG, bytes: 20 * MiB },
    ]);
    const res = await upload(user.token, stream);
    const body = await expectProblem(res, 400, "validation_error");
    expect(body.errors.map((e: Json) => e.path)).toEqual(["passport_scan"]);
    expect(stats.pulled).toBeLessThan(2 * MiB);
    await expectNothingStored(user.id);
  });
});

describe("one KYC upload in flight per user", () => {
  /** `n` submissions at once, each held open before its closing boundary until the others have answered. */
  async function heldBurst(token: string, n: number, front: Uint8Array): Promise<Response[]> {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const answered: Response[] = [];
    const all = Array.from({ length: n }, () => {
      const { stream } = streamedBody([{ name: "document_type", value: "passport" }, { name: "front", head: front, bytes: front.byteLength }], gate);
      return upload(token, stream).then((res) => (answered.push(res), res));
    });
    // The code before the fix reads every body whole: let it go after a while so the test fails, not hangs.
    for (let waited = 0; answered.length < n - 1 && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    release();
    return Promise.all(all);
  }

  async function expectInFlightRefusals(answers: Response[], winnerStatus: number): Promise<Response> {
    expect(answers.map((r) => r.status).sort()).toEqual([winnerStatus, 429, 429, 429].sort());
    for (const res of answers.filter((r) => r.status === 429)) {
      await expectProblem(res, 429, "rate_limited");
      const retryAfter = Number(res.headers.get("Retry-After"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(5);
    }
    return answers.find((r) => r.status === winnerStatus)!;
  }

  it("a burst: one proceeds, the others get 429 while it is in flight; after its 201 a new one is 409, not 429", async () => {
    const user = await customerUser();
    const winner = await expectInFlightRefusals(await heldBurst(user.token, 4, PNG), 201);
    const { application } = await winner.json<Json>();
    expect(await applicationRowsOf(user.id)).toEqual([{ id: application.id, status: "PENDING" }]);
    expect(await objectKeysOf(user.id)).toHaveLength(1);
    await expectProblem(await submitValid(user.token), 409, "kyc_application_open");
  });

  it("a burst whose upload in flight is refused: the slot is given back, and the next submission gets 201", async () => {
    const user = await customerUser();
    const winner = await expectInFlightRefusals(await heldBurst(user.token, 4, encode("MZ not a document")), 400);
    await expectProblem(winner, 400, "invalid_document");
    await expectNothingStored(user.id);
    expect((await submitValid(user.token)).status).toBe(201);
  });

  it("a slot left by a request that died is held for UPLOAD_SLOT_MS, then lapses", async () => {
    const user = await customerUser();
    const subject = userSubject(user.id);
    expect(await subject.claimUpload({ holder: "dead-request", now: Date.now(), ms: UPLOAD_SLOT_MS })).toEqual({ ok: true });
    const refused = await submitValid(user.token);
    await expectProblem(refused, 429, "rate_limited");
    // Only the holder's own release frees it.
    await subject.releaseUpload({ holder: "someone-else" });
    await expectProblem(await submitValid(user.token), 429, "rate_limited");
    const later = Date.now() + UPLOAD_SLOT_MS;
    expect(await subject.claimUpload({ holder: "next", now: later, ms: UPLOAD_SLOT_MS })).toEqual({ ok: true });
    await subject.releaseUpload({ holder: "next" });
    await subject.releaseUpload({ holder: "dead-request" });
    expect((await submitValid(user.token)).status).toBe(201);
  });
});

describe("the happy path, streamed", () => {
  it("a streamed body (no Content-Length) with a front of exactly KYC_MAX_FILE_BYTES is stored whole, and the slot is free after", async () => {
    const user = await customerUser();
    const max = kycConfig().maxFileBytes;
    const { stream, stats } = streamedBody([
      { name: "front", filename: "front.png", head: PNG, bytes: max },
      { name: "document_type", value: "driving_license" },
      { name: "back", head: JPEG, bytes: JPEG.byteLength },
      { name: "selfie", head: PDF, bytes: PDF.byteLength },
    ]);
    const res = await upload(user.token, stream);
    expect(res.status).toBe(201);
    const { application } = await res.json<Json>();
    expect(stats.pulled).toBeGreaterThan(stats.total);
    expect(application).toMatchObject({ status: "PENDING", document_type: "driving_license" });
    expect(application.documents.map((d: Json) => [d.kind, d.content_type, d.size])).toEqual([
      ["front", "image/png", max],
      ["back", "image/jpeg", JPEG.byteLength],
      ["selfie", "application/pdf", PDF.byteLength],
    ]);
    const front = await env.KYC_BUCKET.get(`kyc/${user.id}/${application.id}/${application.documents[0].id}`);
    const bytes = new Uint8Array(await front!.arrayBuffer());
    expect(bytes.byteLength).toBe(max);
    expect(bytes.subarray(0, PNG.byteLength)).toEqual(PNG);
    expect(bytes.subarray(PNG.byteLength).every((b) => b === 0)).toBe(true);
    expect(await kycStatusColumn(user.id)).toBe("PENDING");
    // Given back in the request's finally: a fresh claim succeeds at once.
    expect(await userSubject(user.id).claimUpload({ holder: "probe", now: Date.now(), ms: 1000 })).toEqual({ ok: true });
  });
});
