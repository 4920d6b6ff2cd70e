// Invariant: a lock caused by others does not keep the owner out of a device they signed in on
// before. A password sign-in returns a device token; a later sign-in that brings a valid one for
// that account and that device_id uses its own budget (5 wrong passwords per lock window, however
// many arrive at once) instead of the shared lock. Without a token, or with a token of another
// account, another device, an expired or a forged one, the lock holds.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { issueDeviceToken } from "../../src/domain/device-tokens";
import { call, codeOf, expectProblem, lockOut, loginAt, PASSWORD, post, signedInUser, type Json } from "../helpers";

const WRONG = "definitely not it";
const DAY_MS = 24 * 3600_000;

/** Signs in on `deviceId` and returns the device token the answer carries. */
async function deviceTokenFor(email: string, deviceId: string, now: number): Promise<string> {
  const outcome = await loginAt(email, PASSWORD, now, { deviceId });
  expect(codeOf(outcome)).toBe("ok");
  const token = (outcome as { body: Json }).body.device_token;
  expect(typeof token).toBe("string");
  return token as string;
}

/** Someone else's ten wrong passwords (no token), each after its delay: the account is locked. */
async function lockedByOthers(email: string, start: number): Promise<number> {
  return (await lockOut(email, start, "attacker")) + 1000;
}

describe("device tokens during a login lock", () => {
  it("lets a correct password with this device's token in, and keeps the lock for everyone else", async () => {
    const { email } = await signedInUser();
    const start = Date.now();
    const token = await deviceTokenFor(email, "phone-1", start);
    const now = await lockedByOthers(email, start + 1000);
    expect(codeOf(await loginAt(email, PASSWORD, now, { deviceId: "phone-1" }))).toBe("too_many_attempts");
    const inside = await loginAt(email, PASSWORD, now, { deviceId: "phone-1", deviceToken: token });
    expect(codeOf(inside)).toBe("ok");
    expect(typeof (inside as { body: Json }).body.device_token).toBe("string");
    expect(codeOf(await loginAt(email, PASSWORD, now + 1000, { deviceId: "attacker" }))).toBe("too_many_attempts");
  });

  it("ignores a token for another device_id, of another account, expired or forged", async () => {
    const victim = await signedInUser();
    const other = await signedInUser();
    const start = Date.now();
    const victimToken = await deviceTokenFor(victim.email, "phone-1", start);
    const otherToken = await deviceTokenFor(other.email, "phone-1", start);
    const config = loadConfig(env);
    const victimId = (victim.tokens.user as Json).id as string;
    const expired = await issueDeviceToken(config, victimId, "phone-1", start - 91 * DAY_MS);
    const [version, body] = victimToken.split(".");
    const forged = `${version}.${body}.${"A".repeat(43)}`;
    const now = await lockedByOthers(victim.email, start + 1000);

    expect(codeOf(await loginAt(victim.email, PASSWORD, now, { deviceId: "laptop-2", deviceToken: victimToken }))).toBe("too_many_attempts");
    for (const token of [otherToken, expired, forged, "not a token"]) {
      expect({ token, code: codeOf(await loginAt(victim.email, PASSWORD, now, { deviceId: "phone-1", deviceToken: token })) }).toEqual({ token, code: "too_many_attempts" });
    }
    expect(codeOf(await loginAt(victim.email, PASSWORD, now, { deviceId: "phone-1", deviceToken: victimToken }))).toBe("ok");
  });

  it("a burst of wrong passwords with a device token gets exactly its budget of 5, and not the shared one", async () => {
    const { email } = await signedInUser();
    const start = Date.now();
    const token = await deviceTokenFor(email, "phone-1", start);
    const now = await lockedByOthers(email, start + 1000);
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => loginAt(email, WRONG, now, { deviceId: "phone-1", deviceToken: token })));
    const codes = outcomes.map(codeOf);
    expect(codes.filter((c) => c === "invalid_credentials")).toHaveLength(5);
    expect(codes.filter((c) => c === "too_many_attempts")).toHaveLength(15);
    expect(codeOf(await loginAt(email, PASSWORD, now + 1000, { deviceId: "phone-1", deviceToken: token }))).toBe("too_many_attempts");
  });

  it("wrong passwords with a device token count against that token, not the shared budget", async () => {
    const { email } = await signedInUser();
    const now = Date.now();
    const token = await deviceTokenFor(email, "phone-1", now);
    for (let i = 0; i < 5; i++) expect(codeOf(await loginAt(email, WRONG, now, { deviceId: "phone-1", deviceToken: token }))).toBe("invalid_credentials");
    for (let i = 0; i < 5; i++) expect(codeOf(await loginAt(email, WRONG, now, { deviceId: "laptop-2" }))).toBe("invalid_credentials");
    expect(codeOf(await loginAt(email, WRONG, now, { deviceId: "laptop-2" }))).toBe("too_many_attempts");
  });

  it("POST /auth/login returns a device_token and accepts one back", async () => {
    const { email } = await signedInUser();
    const first = await post("/auth/login", { email, password: PASSWORD, device_id: "web-1" });
    expect(first.status).toBe(200);
    const { device_token } = (await first.json()) as Json;
    expect(typeof device_token).toBe("string");
    // Locked by someone else's failures (placed a minute back, so the 15-minute lock is on now
    // however slow the machine is).
    await lockedByOthers(email, Date.now() - 60_000);
    await expectProblem(await post("/auth/login", { email, password: PASSWORD, device_id: "web-1" }), 429, "too_many_attempts");
    const again = await post("/auth/login", { email, password: PASSWORD, device_id: "web-1", device_token });
    expect(again.status).toBe(200);
  });

  it("documents device_token in the login body and the token response", async () => {
    const doc = (await (await call("/openapi.json")).json()) as Json;
    const body = doc.paths["/api/v1/auth/login"].post.requestBody.content["application/json"].schema;
    expect(JSON.stringify(body)).toContain('"device_token"');
    expect(doc.components.schemas.TokenResponse.properties.device_token).toBeDefined();
  });
});
