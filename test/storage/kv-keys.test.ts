// Every KV key the service writes is built in src/storage/kv-keys.ts: the formats are what
// docs/operations.md and the Durable Object rely on, no two builders can make the same key, and
// every TTL passes through kvTtl, which never asks KV for less than its 60 s minimum.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { kvKeys, kvTtl } from "../../src/storage/kv-keys";

describe("KV key formats", () => {
  it("prefix each kind of record with its own name", () => {
    expect(kvKeys.revokedSession("sid-1")).toBe("revoked-sid:sid-1");
    expect(kvKeys.verifyLink("ab12")).toBe("verify-link:ab12");
    expect(kvKeys.googleState("cd34")).toBe("google-state:cd34");
    expect(kvKeys.resetLink("ef56")).toBe("reset-link:ef56");
  });

  it("never give two kinds of record the same key for the same input", () => {
    const input = "0123456789abcdef";
    const keys = Object.values(kvKeys).map((build) => build(input));
    expect(new Set(keys).size).toBe(keys.length);
    // No prefix is another's prefix either, so listing one kind never finds another.
    const prefixes = keys.map((k) => k.slice(0, k.length - input.length));
    for (const a of prefixes) for (const b of prefixes) if (a !== b) expect(b.startsWith(a)).toBe(false);
  });
});

describe("kvTtl", () => {
  it("raises anything under 60 s to 60 s, KV's shortest TTL", () => {
    for (const seconds of [-5, 0, 0.5, 1, 30, 59, 59.9, 60]) expect({ seconds, ttl: kvTtl(seconds) }).toEqual({ seconds, ttl: 60 });
  });

  it("keeps longer TTLs, rounded up to whole seconds", () => {
    expect(kvTtl(60.1)).toBe(61);
    expect(kvTtl(900)).toBe(900);
    expect(kvTtl(86_400)).toBe(86_400);
    expect(kvTtl(599.01)).toBe(600);
  });

  it("is accepted by KV where the raw short TTL is refused", async () => {
    const key = kvKeys.revokedSession(crypto.randomUUID());
    await expect(env.KV.put(key, "1", { expirationTtl: 10 })).rejects.toThrow();
    await expect(env.KV.put(key, "1", { expirationTtl: kvTtl(10) })).resolves.toBeUndefined();
    expect(await env.KV.get(key)).toBe("1");
  });
});
