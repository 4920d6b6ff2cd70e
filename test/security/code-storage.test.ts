// Invariant: verification codes and link tokens are stored only as keyed or plain hashes (HMAC-SHA256
// for the 6-digit code, SHA-256 for the 128+-bit link token), are single use, and stop working when
// they expire (code: 10 minutes) or when a new registration replaces them.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { fromBase64url, sha256Hex } from "../../src/domain/crypto";
import { codeHmac, verifyEmailCode } from "../../src/domain/registration";
import {
  AFTER_COOLDOWN_MS,
  call,
  emailSubject,
  expectProblem,
  lastCode,
  lastLinkToken,
  NO_META,
  PASSWORD,
  post,
  registerAt,
  registerUser,
  testDeps,
  uniqueEmail,
  userRows,
} from "../helpers";

const MINUTE = 60_000;
const DEVICE = { deviceId: "d-1", deviceName: null };

type Row = Record<string, SqlStorageValue>;

/** Every row of every table of the email's Durable Object. */
async function subjectRows(email: string): Promise<{ codes: Row[]; all: Row[] }> {
  return runInDurableObject(emailSubject(email), (_instance, state) => {
    const sql = state.storage.sql;
    const tables = sql
      .exec<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'`)
      .toArray()
      .map((t) => t.name);
    const all = tables.flatMap((t) => sql.exec<Row>(`SELECT * FROM "${t}"`).toArray());
    return { codes: sql.exec<Row>(`SELECT * FROM codes`).toArray(), all };
  });
}

/** Every KV key and value. */
async function kvEntries(): Promise<{ name: string; value: string | null }[]> {
  const entries: { name: string; value: string | null }[] = [];
  let cursor: string | undefined;
  do {
    const page: KVNamespaceListResult<unknown> = await env.KV.list(cursor ? { cursor } : {});
    for (const key of page.keys) entries.push({ name: key.name, value: await env.KV.get(key.name) });
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return entries;
}

function containsSecret(value: SqlStorageValue, secret: string): boolean {
  if (typeof value === "string") return value.includes(secret);
  if (typeof value === "number") return String(value) === secret;
  if (value instanceof ArrayBuffer) return new TextDecoder().decode(value).includes(secret);
  return false;
}

function verifyLink(token: string): Promise<Response> {
  return post("/auth/verify", { token, password: PASSWORD });
}

describe("code and link storage", () => {
  it("stores the code only as an HMAC", async () => {
    const { deps } = testDeps();
    const { email } = await registerUser();
    const code = lastCode(email);
    const { codes, all } = await subjectRows(email);

    expect(codes).toHaveLength(1);
    const record = codes[0]!;
    expect(record.code_hmac).toMatch(/^[0-9a-f]{64}$/);
    expect(record.code_hmac).toBe(await codeHmac(deps, "register", email, code));
    for (const row of all) {
      for (const [column, value] of Object.entries(row)) {
        expect({ column, leaks: containsSecret(value, code) }).toEqual({ column, leaks: false });
      }
    }
    for (const { name, value } of await kvEntries()) {
      expect(name).not.toContain(code);
      expect(value ?? "").not.toContain(code);
    }
  });

  it("a code is single use (Durable Object level)", async () => {
    const { deps } = testDeps();
    const { email } = await registerUser();
    const code = lastCode(email);
    const hmac = await codeHmac(deps, "register", email, code);
    const stub = emailSubject(email);
    const input = { purpose: "register", codeHmac: hmac, now: Date.now(), maxAttempts: 5 };

    expect(await stub.verifyCode(input)).toMatchObject({ ok: true });
    expect(await stub.verifyCode(input)).toEqual({ ok: false, reason: "invalid" });
    // Spent in the Durable Object, so the route cannot redeem it either (and no user was made).
    await expectProblem(await post("/auth/verify-email", { email, code }), 400, "invalid_code");
    expect(await userRows(email)).toBe(0);
  });

  it("a code is single use (route)", async () => {
    const { email } = await registerUser();
    const code = lastCode(email);
    expect((await post("/auth/verify-email", { email, code })).status).toBe(200);
    await expectProblem(await post("/auth/verify-email", { email, code }), 400, "invalid_code");
    expect(await userRows(email)).toBe(1);
  });

  it("a code older than 10 minutes is refused", async () => {
    const { deps, settle } = testDeps();
    const { email } = await registerUser();
    const registered = Date.now();
    const code = lastCode(email);
    await expect(
      verifyEmailCode(deps, { email, code, device: DEVICE }, NO_META, registered + 10 * MINUTE + 1_000),
    ).rejects.toMatchObject({ code: "invalid_code" });
    await settle();
    expect(await userRows(email)).toBe(0);
  });

  it("a code 9 minutes old still works", async () => {
    const { deps, settle } = testDeps();
    const before = Date.now();
    const { email } = await registerUser();
    const code = lastCode(email);
    await expect(
      verifyEmailCode(deps, { email, code, device: DEVICE }, NO_META, before + 9 * MINUTE),
    ).resolves.toMatchObject({ user: { email, is_email_verified: true } });
    await settle();
    expect(await userRows(email)).toBe(1);
  });

  it("the link token has at least 128 bits and is stored only as a SHA-256", async () => {
    const { email } = await registerUser();
    const token = lastLinkToken(email);
    expect(token).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    expect(fromBase64url(token).length).toBeGreaterThanOrEqual(16);

    const hash = await sha256Hex(token);
    expect(await env.KV.get(`verify-link:${hash}`)).toBe(email);
    const { codes, all } = await subjectRows(email);
    expect(codes[0]!.link_hash).toBe(hash);
    for (const row of all) {
      for (const [column, value] of Object.entries(row)) {
        expect({ column, leaks: containsSecret(value, token) }).toEqual({ column, leaks: false });
      }
    }
    for (const { name, value } of await kvEntries()) {
      expect(name).not.toContain(token);
      expect(value ?? "").not.toContain(token);
    }
  });

  it("a missing, empty or oversized link token is invalid_token", async () => {
    await expectProblem(await call("/auth/verify"), 400, "invalid_token");
    await expectProblem(await post("/auth/verify", { password: PASSWORD }), 400, "invalid_token");
    await expectProblem(await verifyLink(""), 400, "invalid_token");
    await expectProblem(await verifyLink("x".repeat(5000)), 400, "invalid_token");
  });

  it("the link verifies once; an unknown token is refused", async () => {
    const { email } = await registerUser();
    const token = lastLinkToken(email);

    const first = await verifyLink(token);
    expect(first.status).toBe(200);
    expect(await userRows(email)).toBe(1);
    // Spent in the Durable Object itself, not only shadowed by the user row.
    const linkHash = await sha256Hex(token);
    expect(await emailSubject(email).verifyLink({ purpose: "register", linkHash, now: Date.now() })).toEqual({
      ok: false,
      reason: "invalid",
    });

    await expectProblem(await verifyLink(token), 400, "invalid_token");
    expect(await userRows(email)).toBe(1);

    await expectProblem(await verifyLink(crypto.randomUUID().replace(/-/g, "")), 400, "invalid_token");
  });

  it("after a new registration the old link is refused and the new one works", async () => {
    const email = uniqueEmail();
    await registerUser({ email });
    const oldToken = lastLinkToken(email);
    await registerAt(Date.now() + AFTER_COOLDOWN_MS, { email });
    const newToken = lastLinkToken(email);
    expect(newToken).not.toBe(oldToken);

    await expectProblem(await verifyLink(oldToken), 400, "invalid_token");
    expect(await userRows(email)).toBe(0);
    expect((await verifyLink(newToken)).status).toBe(200);
    expect(await userRows(email)).toBe(1);
  });
});
