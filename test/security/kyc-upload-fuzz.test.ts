// Invariant: no multipart body makes the KYC upload fail. Valid submissions cut short, with bytes
// flipped or inserted (CRLFs, dashes, pieces of the boundary), parts repeated, or a wrong or
// missing boundary parameter, never get a 5xx; every refusal is problem+json with a code, and a
// refused upload stores no document.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { authed, customerUser, JPEG, kycForm, PNG } from "../helpers";

async function validBody(): Promise<{ bytes: Uint8Array; contentType: string; boundary: string }> {
  const form = kycForm("passport", { front: { bytes: PNG, type: "image/png" }, back: { bytes: JPEG, type: "image/jpeg" } });
  const request = new Request("http://x/", { method: "POST", body: form });
  const contentType = request.headers.get("Content-Type")!;
  return { bytes: new Uint8Array(await request.arrayBuffer()), contentType, boundary: /boundary=(.+)$/.exec(contentType)![1]! };
}

type Mutation =
  | { kind: "truncate"; at: number }
  | { kind: "flip"; at: number; value: number }
  | { kind: "insert"; at: number; text: string }
  | { kind: "repeat"; from: number; length: number };

function mutation(boundary: string): fc.Arbitrary<Mutation> {
  const at = fc.double({ min: 0, max: 1, noNaN: true });
  const text = fc.oneof(
    fc.constantFrom("\r\n", "\r\n\r\n", "--", `--${boundary}`, `\r\n--${boundary}\r\n`, `--${boundary}--`, '"', ";", "\n"),
    fc.constantFrom(`Content-Disposition: form-data; name="front"; filename="x"\r\n\r\n`, 'name="selfie"', "filename*=UTF-8''%FF"),
    fc.string({ maxLength: 40 }),
  );
  return fc.oneof(
    fc.record({ kind: fc.constant("truncate" as const), at }),
    fc.record({ kind: fc.constant("flip" as const), at, value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant("insert" as const), at, text }),
    fc.record({ kind: fc.constant("repeat" as const), from: at, length: fc.integer({ min: 1, max: 400 }) }),
  ) as fc.Arbitrary<Mutation>;
}

function apply(bytes: Uint8Array, mutations: Mutation[]): Uint8Array {
  let out = bytes;
  for (const m of mutations) {
    const index = (x: number) => Math.min(out.byteLength, Math.floor(x * out.byteLength));
    if (m.kind === "truncate") out = out.subarray(0, index(m.at));
    else if (m.kind === "flip" && out.byteLength > 0) {
      out = out.slice();
      out[Math.min(out.byteLength - 1, index(m.at))] = m.value;
    } else if (m.kind === "insert") {
      const i = index(m.at);
      out = concat(out.subarray(0, i), new TextEncoder().encode(m.text), out.subarray(i));
    } else if (m.kind === "repeat") {
      const i = index(m.from);
      out = concat(out.subarray(0, i), out.subarray(i, i + m.length), out.subarray(i));
    }
  }
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

async function documentCount(): Promise<number> {
  return (await env.DB.prepare("SELECT COUNT(*) AS n FROM kyc_documents").first<{ n: number }>())!.n;
}

describe("malformed KYC uploads", () => {
  it("never answer 5xx, and a refused one stores nothing", async () => {
    const valid = await validBody();
    const contentTypes = fc.constantFrom(
      valid.contentType,
      valid.contentType,
      "multipart/form-data",
      `multipart/form-data; boundary="${valid.boundary}"`,
      "multipart/form-data; boundary=",
      "multipart/form-data; boundary=other",
    );
    const user = await customerUser();
    await fc.assert(
      fc.asyncProperty(fc.array(mutation(valid.boundary), { minLength: 1, maxLength: 4 }), contentTypes, async (mutations, contentType) => {
        const before = await documentCount();
        const res = await authed(user.token, "/kyc/submit", {
          method: "POST",
          headers: { "Content-Type": contentType },
          body: apply(valid.bytes, mutations),
        });
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) {
          expect(res.headers.get("Content-Type")).toContain("application/problem+json");
          const body = await res.json<{ code?: unknown; status?: unknown }>();
          expect(typeof body.code).toBe("string");
          expect(body.status).toBe(res.status);
          expect(await documentCount()).toBe(before);
        } else {
          expect(res.status).toBe(201);
          await res.arrayBuffer();
          // Still valid after mutation: closed again, so the next body is read rather than refused early.
          await env.DB.prepare("UPDATE kyc_applications SET status = 'REJECTED' WHERE user_id = ?").bind(user.id).run();
        }
      }),
      { numRuns: 60 },
    );
  });
});
