// Invariant: Durable Object storage does not grow for made-up identities. A lookup that finds
// nothing (refresh or logout with a made-up user id, a code checked for nobody) stores nothing;
// what must be stored for an unknown subject (failed logins, so a lock reveals nothing) expires;
// and an object whose rows have all lapsed deletes its storage, alarm included, when its alarm runs.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { passkeySignInOptions } from "../../src/domain/passkey-sign-in";
import { confirmPasswordReset } from "../../src/domain/password-reset";
import { codeOf, expectProblem, loginAt, NO_META, post, signedInUser, subjectStub, testDeps, uniqueEmail } from "../helpers";

const LOCK_MS = 15 * 60_000;

/**
 * What an object has stored: its schema, its alarm and the size of its database. Locally every
 * object that was ever called has a database file (listDurableObjectIds lists it), so "nothing
 * stored" means what a never-written object has: no schema, no alarm, one empty page.
 */
async function stored(name: string): Promise<{ schema: string[]; alarm: number | null; size: number }> {
  return runInDurableObject(subjectStub(name), async (_instance, state) => ({
    schema: state.storage.sql
      .exec<{ name: string }>(`SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'`)
      .toArray()
      .map((t) => t.name),
    alarm: await state.storage.getAlarm(),
    size: state.storage.sql.databaseSize,
  }));
}

/** A never-written object, to compare with: it has no schema at all. */
async function nothing() {
  const empty = await stored(`test:${crypto.randomUUID()}`);
  expect(empty.schema).toEqual([]);
  return empty;
}

describe("Durable Object storage for made-up identities", () => {
  it("refresh and logout with made-up user ids leave no object with stored state", async () => {
    const userIds = Array.from({ length: 20 }, () => crypto.randomUUID());
    for (const userId of userIds) {
      const token = `${userId}.${crypto.randomUUID()}.${"A".repeat(43)}`;
      await expectProblem(await post("/auth/refresh", { refresh_token: token, device_id: "d" }), 401, "invalid_refresh_token");
      expect((await post("/auth/logout", { refresh_token: token })).status).toBe(200);
    }
    const empty = await nothing();
    for (const userId of userIds) expect(await stored(`user:${userId}`)).toEqual(empty);
  });

  it("checking a code for an address with none stores nothing", async () => {
    const email = uniqueEmail("nobody");
    const { deps } = testDeps();
    await expect(confirmPasswordReset(deps, { email, code: "123456" }, "a brand new passphrase", Date.now())).rejects.toMatchObject({
      code: "invalid_code",
    });
    expect(await stored(`email:${email}`)).toEqual(await nothing());
  });

  it("failed logins for an unknown address are counted with an expiry, within the lock window", async () => {
    const email = uniqueEmail("nobody");
    const now = Date.now();
    expect(codeOf(await loginAt(email, "not the password", now))).toBe("invalid_credentials");
    const { schema, alarm } = await stored(`email:${email}`);
    expect(schema.length).toBeGreaterThan(0);
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeLessThanOrEqual(now + LOCK_MS);
  });

  it("objects whose counters lapsed delete their storage when their alarm runs", async () => {
    const emails = Array.from({ length: 20 }, () => uniqueEmail("nobody"));
    const longAgo = Date.now() - LOCK_MS - 60_000;
    for (const email of emails) expect(codeOf(await loginAt(email, "not the password", longAgo))).toBe("invalid_credentials");
    const empty = await nothing();
    for (const email of emails) {
      await runDurableObjectAlarm(subjectStub(`email:${email}`));
      expect(await stored(`email:${email}`)).toEqual(empty);
    }
  });

  it("an object that deleted its storage sets a new alarm with its next write, and an earlier one when asked", async () => {
    const email = uniqueEmail("nobody");
    const longAgo = Date.now() - LOCK_MS - 60_000;
    expect(codeOf(await loginAt(email, "not the password", longAgo))).toBe("invalid_credentials");
    await runDurableObjectAlarm(subjectStub(`email:${email}`));
    expect(await stored(`email:${email}`)).toEqual(await nothing());
    // The same object, still in memory, writes again: its new rows are cleaned up too.
    const now = Date.now();
    expect(codeOf(await loginAt(email, "not the password", now))).toBe("invalid_credentials");
    expect((await stored(`email:${email}`)).alarm).toBe(now + LOCK_MS);
    // A row that lapses sooner moves the alarm earlier; a later one leaves it.
    expect(codeOf(await loginAt(email, "not the password", now - 60_000))).toBe("invalid_credentials");
    expect((await stored(`email:${email}`)).alarm).toBe(now - 60_000 + LOCK_MS);
    expect(codeOf(await loginAt(email, "not the password", now + 60_000))).toBe("invalid_credentials");
    expect((await stored(`email:${email}`)).alarm).toBe(now - 60_000 + LOCK_MS);
  });

  it("a passkey sign-in naming a made-up challenge_id stores nothing", async () => {
    const challengeId = crypto.randomUUID();
    const credential = { id: "AAAA", rawId: "AAAA", type: "public-key", response: { clientDataJSON: "e30", authenticatorData: "AA", signature: "AA" } };
    await expectProblem(await post("/auth/passkey/verify", { challenge_id: challengeId, credential, device_id: "d" }), 400, "invalid_passkey");
    expect(await stored(`webauthn:${challengeId}`)).toEqual(await nothing());
  });

  it("a discoverable sign-in's challenge object deletes its storage once the challenge lapsed", async () => {
    const { deps } = testDeps();
    const issued = Date.now() - 6 * 60_000;
    const { challenge_id } = await passkeySignInOptions(deps, NO_META, issued);
    const name = `webauthn:${challenge_id}`;
    const before = await stored(name);
    expect(before.schema).toContain("webauthn_challenges");
    // Its expiry is past: the alarm is due at once (the runtime sets a past alarm to now).
    expect(before.alarm).not.toBeNull();
    expect(before.alarm!).toBeLessThanOrEqual(Date.now() + 1000);
    await runDurableObjectAlarm(subjectStub(name));
    expect(await stored(name)).toEqual(await nothing());
  });

  it("keeps what has not lapsed, and an account's sessions, when its alarm runs", async () => {
    const { tokens } = await signedInUser();
    const userName = `user:${(tokens.user as { id: string }).id}`;
    await runDurableObjectAlarm(subjectStub(userName));
    const after = await stored(userName);
    expect(after.schema.length).toBeGreaterThan(0);
    expect(after.alarm).not.toBeNull();
    const refreshed = await post("/auth/refresh", { refresh_token: tokens.refresh_token, device_id: "device-1" });
    expect(refreshed.status).toBe(200);
  });
});
