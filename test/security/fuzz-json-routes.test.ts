// Invariant: no input makes the service fail. For every JSON route of the OpenAPI document,
// property-based inputs (arbitrary JSON values, wrong types, huge strings, invalid UTF-8, wrong
// content types, empty and oversized bodies) never get a 5xx, every refusal is problem+json with a
// code, and refused requests leave the data unchanged (audit rows of the refusals aside).
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { adminUser, call, signedInUser } from "../helpers";

type Operation = { method: string; path: string; bearer: boolean };

const TABLES = ["users", "sessions", "identities", "kyc_applications", "kyc_documents", "webhook_events", "mfa_totp", "mfa_recovery_codes", "passkeys", "deletions"];

let operations: Operation[] = [];
let token = "";

// One query for every table's count: the snapshot is taken twice per generated input.
const SNAPSHOT_SQL = `SELECT ${TABLES.map((t) => `(SELECT COUNT(*) FROM ${t}) AS ${t}`).join(", ")}`;

async function snapshot(): Promise<Record<string, number>> {
  return (await env.DB.prepare(SNAPSHOT_SQL).first<Record<string, number>>()) ?? {};
}

function concretePath(path: string): string {
  return path.replace(/\{[^}]+\}/g, () => crypto.randomUUID());
}

async function send(op: Operation, body: BodyInit | null, contentType: string | null): Promise<Response> {
  const headers: Record<string, string> = {};
  if (contentType) headers["Content-Type"] = contentType;
  if (op.bearer) headers.Authorization = `Bearer ${token}`;
  return call(`http://auth.test${concretePath(op.path)}`, { method: op.method.toUpperCase(), headers, body });
}

async function expectRefusedCleanly(res: Response, label: string) {
  expect(res.status, label).toBeLessThan(500);
  if (res.status >= 400) {
    expect(res.headers.get("Content-Type"), label).toContain("application/problem+json");
    const body = (await res.json()) as { code?: unknown; status?: unknown };
    expect(typeof body.code, label).toBe("string");
    expect(body.status, label).toBe(res.status);
  } else {
    await res.arrayBuffer();
  }
}

beforeAll(async () => {
  const doc = (await (await call("/openapi.json")).json()) as {
    paths: Record<string, Record<string, { requestBody?: { content?: Record<string, unknown> }; security?: unknown[] }>>;
  };
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (op.requestBody?.content?.["application/json"]) operations.push({ method, path, bearer: Boolean(op.security?.length) });
    }
  }
  const { tokens } = await signedInUser({}, "fuzz-device");
  token = tokens.access_token;
});

describe("fuzzing every JSON route", () => {
  it("finds the JSON routes in the OpenAPI document", () => {
    expect(operations.length).toBeGreaterThanOrEqual(10);
    expect(operations.map((o) => o.path)).toContain("/api/v1/auth/login");
    expect(operations.map((o) => o.path)).toEqual(expect.arrayContaining(["/api/v1/auth/email/send-code", "/api/v1/auth/email/verify-code"]));
    expect(operations).toContainEqual({ method: "post", path: "/api/v1/auth/reauthenticate", bearer: true });
    expect(operations).toContainEqual({ method: "post", path: "/api/v1/users/me/identities/google", bearer: true });
    for (const path of ["/users/me/email", "/users/me/email/confirm", "/users/me/phone", "/users/me/phone/confirm", "/users/me/password"]) {
      expect(operations).toContainEqual({ method: "post", path: `/api/v1${path}`, bearer: true });
    }
  });

  it("arbitrary JSON values never cause a 5xx and never change data when refused", async () => {
    for (const op of operations) {
      await fc.assert(
        fc.asyncProperty(fc.jsonValue({ maxDepth: 3 }), async (value) => {
          const before = await snapshot();
          const res = await send(op, JSON.stringify(value), "application/json");
          const status = res.status;
          await expectRefusedCleanly(res, `${op.method} ${op.path} ${JSON.stringify(value).slice(0, 80)}`);
          if (status >= 400) expect(await snapshot()).toEqual(before);
        }),
        { numRuns: 15 },
      );
    }
  });

  it("objects with the right field names but wrong types or huge strings are refused cleanly", async () => {
    const fieldNames = ["email", "password", "full_name", "code", "device_id", "refresh_token", "token", "phone", "otp", "id_token", "new_password", "current_password", "role", "is_active", "reason", "username", "profile_picture", "totp", "mfa_token", "method", "new_email"];
    const wrongValue = fc.oneof(
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string(), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
      fc.string({ minLength: 5000, maxLength: 20000 }),
      fc.string({ unit: "grapheme", maxLength: 50 }),
    );
    for (const op of operations) {
      await fc.assert(
        fc.asyncProperty(fc.dictionary(fc.constantFrom(...fieldNames), wrongValue, { maxKeys: 6 }), async (value) => {
          const res = await send(op, JSON.stringify(value), "application/json");
          await expectRefusedCleanly(res, `${op.method} ${op.path}`);
        }),
        { numRuns: 10 },
      );
    }
  });

  it("invalid UTF-8, wrong content types, empty and oversized bodies are refused cleanly", async () => {
    const bodies: [BodyInit | null, string | null, string][] = [
      [new Uint8Array([0x7b, 0x22, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]), "application/json", "invalid UTF-8"],
      [new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), "application/json", "BOM"],
      ["", "application/json", "empty"],
      [null, "application/json", "no body"],
      ['{"a":1}', "text/plain", "text/plain"],
      ["a=1&b=2", "application/x-www-form-urlencoded", "form"],
      ['{"a":1}', null, "no content type"],
      ['{"a":1}', "application/json; charset=latin1", "charset"],
      ["[".repeat(100000), "application/json", "deep nesting"],
      [JSON.stringify({ email: "x".repeat(1024 * 1024 + 10) }), "application/json", "over 1 MiB"],
    ];
    for (const op of operations) {
      for (const [body, type, label] of bodies) {
        const before = await snapshot();
        const res = await send(op, body, type);
        const status = res.status;
        await expectRefusedCleanly(res, `${op.method} ${op.path} ${label}`);
        if (label === "over 1 MiB") expect(status, `${op.path} ${label}`).toBe(413);
        if (status >= 400) expect(await snapshot()).toEqual(before);
      }
    }
  });

  it("the export's signed document link refuses arbitrary ids, expiries and signatures cleanly, and serves nothing", async () => {
    const text = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: "grapheme", maxLength: 20 }), fc.uuid(), fc.constant(""));
    const expiry = fc.oneof(fc.integer().map(String), fc.double().map(String), text, fc.constant(String(Math.floor(Date.now() / 1000) + 300)));
    const signature = fc.oneof(text, fc.base64String({ minLength: 40, maxLength: 48 }), fc.constant("A".repeat(43)));
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uuid(), text), expiry, signature, async (docId, expires, sig) => {
        const query = new URLSearchParams({ expires, sig });
        const path = `/api/v1/users/me/export/kyc-documents/${encodeURIComponent(docId)}?${query}`;
        const res = await call(`http://auth.test${path}`);
        expect(res.status, path).not.toBe(200);
        await expectRefusedCleanly(res, path);
      }),
      { numRuns: 60 },
    );
    const exported = await call("http://auth.test/api/v1/users/me/export?format=xml&sections=%00", { headers: { Authorization: `Bearer ${token}` } });
    expect(exported.status).toBe(200);
    expect(exported.headers.get("Cache-Control")).toBe("no-store");
    await exported.arrayBuffer();
  });
});

describe("fuzzing the ids in paths", () => {
  it("DELETE /admin/users/{id} with any id is refused cleanly (400 or 404) and deletes nothing", async () => {
    const admin = await adminUser({}, "fuzz-admin");
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 80 }), fc.uuid(), fc.string({ unit: "grapheme", maxLength: 40 })), async (id) => {
        const before = await snapshot();
        const res = await call(`http://auth.test/api/v1/admin/users/${encodeURIComponent(id)}`, {
          method: "DELETE",
          headers: { Authorization: `Bearer ${admin.token}` },
        });
        expect([400, 404, 405], `${JSON.stringify(id)}: ${res.status}`).toContain(res.status);
        await expectRefusedCleanly(res, `DELETE /admin/users/${id}`);
        expect(await snapshot()).toEqual(before);
      }),
      { numRuns: 40 },
    );
  });
});
