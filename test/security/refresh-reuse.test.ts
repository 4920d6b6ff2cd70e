// Invariant: a refresh token works once, on its own device, within its absolute lifetime. A spent
// token replayed after the grace window, or any older token at any time, answers
// refresh_token_reused and revokes that session only (RFC 9700 §4.14); a token for another device,
// an unknown, malformed or expired token answers invalid_refresh_token and changes nothing.
import { describe, expect, it } from "vitest";
import { refresh } from "../../src/domain/session-tokens";
import { verifyAccessToken } from "../../src/domain/tokens";
import { authed, expectAccessRefused, expectRefreshRefused, login, rotate, signedInUser, testDeps } from "../helpers";

const GRACE_PASSED_MS = 11_000;
const DAY_MS = 24 * 3600 * 1000;

describe("refresh token reuse detection", () => {
  it("a spent token replayed after the grace window is reuse and revokes the session", async () => {
    const { tokens, deviceId } = await signedInUser({}, "reuse-late");
    const successor = await rotate(tokens.refresh_token, deviceId);
    // Inside the window the same replay is a retry and gets the same successor.
    expect((await rotate(tokens.refresh_token, deviceId)).refresh_token).toBe(successor.refresh_token);
    const { deps, settle } = testDeps();

    await expect(
      refresh(deps, { refreshToken: tokens.refresh_token, deviceId }, Date.now() + GRACE_PASSED_MS),
    ).rejects.toMatchObject({ code: "refresh_token_reused" });
    await settle();

    await expectRefreshRefused(successor.refresh_token, deviceId, "invalid_refresh_token");
    await expectAccessRefused(successor.access_token);
    await expectAccessRefused(tokens.access_token);
  });

  it("a token two rotations back is reuse even inside the grace window", async () => {
    const { tokens, deviceId } = await signedInUser({}, "reuse-old");
    const second = await rotate(tokens.refresh_token, deviceId);
    const third = await rotate(second.refresh_token, deviceId);

    await expectRefreshRefused(tokens.refresh_token, deviceId, "refresh_token_reused");

    await expectRefreshRefused(third.refresh_token, deviceId, "invalid_refresh_token");
    await expectAccessRefused(third.access_token);
  });

  it("revokes only the reused session: the user's other session keeps working", async () => {
    const { email, password, tokens, deviceId } = await signedInUser({}, "reuse-phone");
    const other = await login(email, password, "reuse-laptop");
    const second = await rotate(tokens.refresh_token, deviceId);
    await rotate(second.refresh_token, deviceId);

    await expectRefreshRefused(tokens.refresh_token, deviceId, "refresh_token_reused");
    await expectAccessRefused(second.access_token);

    expect((await authed(other.access_token, "/users/me")).status).toBe(200);
    const otherNext = await rotate(other.refresh_token, "reuse-laptop");
    expect((await authed(otherNext.access_token, "/users/me")).status).toBe(200);
  });
});

describe("refresh tokens that are not valid here", () => {
  it("another device_id answers invalid_refresh_token and does not rotate", async () => {
    const { tokens, deviceId } = await signedInUser({}, "device-owner");

    await expectRefreshRefused(tokens.refresh_token, "device-thief", "invalid_refresh_token");

    // Had the refused call rotated, this token would now be spent and, past the grace window, reuse.
    const { deps, settle } = testDeps();
    const later = Date.now() + GRACE_PASSED_MS;
    const pair = await refresh(deps, { refreshToken: tokens.refresh_token, deviceId }, later);
    await settle();
    expect(pair.refresh_token).not.toBe(tokens.refresh_token);
    // The new access token is dated `later`: check it at that time, not against the real clock.
    expect(await verifyAccessToken(deps.config, pair.access_token, Math.floor(later / 1000))).not.toBeNull();
  });

  it.each([
    ["garbage", "garbage"],
    ["three dotted parts that are not ids", "a.b.c"],
    ["unknown ids with a well-formed secret", `${crypto.randomUUID()}.${crypto.randomUUID()}.${"A".repeat(43)}`],
    ["a short secret", `${crypto.randomUUID()}.${crypto.randomUUID()}.abc`],
    ["a JWT-looking string", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."],
  ])("a malformed or unknown token (%s) answers invalid_refresh_token", async (_label, token) => {
    await expectRefreshRefused(token, "device-1", "invalid_refresh_token");
  });

  it("a guessed secret for a real session answers invalid_refresh_token and leaves the session alone", async () => {
    const { tokens, deviceId } = await signedInUser({}, "guessed");
    const [userId, sessionId, secret] = tokens.refresh_token.split(".") as [string, string, string];
    const guessed = `${userId}.${sessionId}.${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`;

    await expectRefreshRefused(guessed, deviceId, "invalid_refresh_token");

    expect((await authed(tokens.access_token, "/users/me")).status).toBe(200);
    await rotate(tokens.refresh_token, deviceId);
  });

  it("a token past its 30-day absolute lifetime answers invalid_refresh_token", async () => {
    const { tokens, deviceId } = await signedInUser({}, "expiring");
    const { deps, settle } = testDeps();
    const start = Date.now();

    await expect(
      refresh(deps, { refreshToken: tokens.refresh_token, deviceId }, start + 31 * DAY_MS),
    ).rejects.toMatchObject({ code: "invalid_refresh_token" });

    // The same token one day before its end still rotates: the refusal above was for its age.
    const pair = await refresh(deps, { refreshToken: tokens.refresh_token, deviceId }, start + 29 * DAY_MS);
    await settle();
    expect(pair.refresh_token).not.toBe(tokens.refresh_token);
  });
});
