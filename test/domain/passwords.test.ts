// Invariant: passwords are stored as argon2id PHC strings with the current parameters
// (m=19456 KiB, t=2, p=1), accepted only from 8 to 128 characters, and a hash made with older
// parameters still signs in and is upgraded to the current ones on that login.
import Argon2, { Argon2Type, Argon2Version } from "@phi-ag/argon2";
import argon2Wasm from "@phi-ag/argon2/argon2.wasm";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { needsRehash, verifyPassword } from "../../src/domain/passwords";
import { expectProblem, lastCode, login, messagesTo, post, signedInUser, uniqueEmail } from "../helpers";

const CURRENT_PREFIX = "$argon2id$v=19$m=19456,t=2,p=1$";

async function storedHash(email: string): Promise<string> {
  const row = await env.DB.prepare("SELECT password_hash FROM users WHERE email = ?").bind(email).first<{ password_hash: string }>();
  return row!.password_hash;
}

function register(email: string, password: string): Promise<Response> {
  return post("/auth/register", { email, password, full_name: "Test User" });
}

describe("password hashing", () => {
  it("stores an argon2id hash with the current parameters, never the password", async () => {
    const { email, password } = await signedInUser();
    const hash = await storedHash(email);
    expect(hash.startsWith(CURRENT_PREFIX)).toBe(true);
    expect(hash).not.toContain(password);
    expect(await verifyPassword(hash, password)).toBe(true);
  });

  it.each([7, 129])("refuses a %i-character password at register", async (length) => {
    const email = uniqueEmail();
    const body = await expectProblem(await register(email, "p".repeat(length)), 400, "validation_error");
    expect(body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: "password" })]));
    expect(messagesTo(email)).toHaveLength(0);
  });

  it.each([8, 128])("accepts a %i-character password and signs in with it", async (length) => {
    const email = uniqueEmail();
    const password = "p".repeat(length);
    expect((await register(email, password)).status).toBe(202);
    expect((await post("/auth/verify-email", { email, code: lastCode(email) })).status).toBe(200);
    await login(email, password, "d-1");
  });

  it("upgrades a hash with older parameters at the next login", async () => {
    const argon2 = new Argon2(await WebAssembly.instantiate(argon2Wasm));
    const password = "an older password hash";
    const oldHash = argon2.hash(password, {
      memoryCost: 4096,
      timeCost: 1,
      parallelism: 1,
      hashLength: 32,
      type: Argon2Type.Argon2id,
      version: Argon2Version.Version13,
    }).encoded;
    expect(oldHash.startsWith("$argon2id$v=19$m=4096,t=1,p=1$")).toBe(true);
    expect(needsRehash(oldHash)).toBe(true);

    const email = uniqueEmail();
    const now = Date.now();
    await env.DB.prepare(
      `INSERT INTO users (id, email, full_name, role, password_hash, is_email_verified, is_active, created_at, updated_at)
       VALUES (?, ?, 'Old Hash', 'CUSTOMER', ?, 1, 1, ?, ?)`,
    )
      .bind(crypto.randomUUID(), email, oldHash, now, now)
      .run();

    await login(email, password, "d-1");

    // The upgrade runs after the response (ctx.waitUntil).
    let upgraded = oldHash;
    for (let waited = 0; waited < 2_000 && upgraded === oldHash; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      upgraded = await storedHash(email);
    }
    expect(upgraded.startsWith(CURRENT_PREFIX)).toBe(true);
    expect(needsRehash(upgraded)).toBe(false);
    expect(await verifyPassword(upgraded, password)).toBe(true);
    await login(email, password, "d-2");
  });

  it("does not rehash a current hash at login", async () => {
    const { email, password } = await signedInUser();
    const before = await storedHash(email);
    await login(email, password, "d-2");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await storedHash(email)).toBe(before);
  });
});
