// Invariant: no user exists until the email address is proved. Registering only creates a pending
// registration (no D1 users row) that a new registration replaces and that expires after 24 h; a
// verified address cannot be registered or verified again, and nobody can sign up as ADMIN.
import { describe, expect, it } from "vitest";
import { resendVerification, verifyEmailCode } from "../../src/domain/registration";
import {
  AFTER_COOLDOWN_MS,
  expectProblem,
  lastCode,
  messagesTo,
  NO_META,
  PASSWORD,
  post,
  registerAt,
  registerUser,
  signedInUser,
  testDeps,
  uniqueEmail,
  userRows,
  waitForMessages,
} from "../helpers";

const HOUR = 3_600_000;
const MINUTE = 60_000;

describe("no user before verification", () => {
  it("register creates no users row; verification does", async () => {
    const { email } = await registerUser();
    expect(messagesTo(email)).toHaveLength(1);
    expect(await userRows(email)).toBe(0);

    const res = await post("/auth/verify-email", { email, code: lastCode(email), device_id: "d-1" });
    expect(res.status).toBe(200);
    expect(await userRows(email)).toBe(1);
  });

  it("registering a pending email again replaces it: the old code stops working, the new one works", async () => {
    const { email } = await registerUser();
    const oldCode = lastCode(email);
    let newCode = oldCode;
    // A fresh code equal to the old one (1 in a million) would make the check below meaningless.
    for (let i = 1; newCode === oldCode; i++) {
      await registerAt(Date.now() + i * AFTER_COOLDOWN_MS, { email, full_name: "Second Attempt" });
      newCode = lastCode(email);
    }
    expect(messagesTo(email).length).toBeGreaterThanOrEqual(2);
    expect(await userRows(email)).toBe(0);

    await expectProblem(await post("/auth/verify-email", { email, code: oldCode }), 400, "invalid_code");
    const res = await post("/auth/verify-email", { email, code: newCode });
    expect(res.status).toBe(200);
    // The replacing registration's data is the one that becomes the user.
    expect((await res.json<any>()).user).toMatchObject({ email, full_name: "Second Attempt" });
    expect(await userRows(email)).toBe(1);
  });

  it("replacing a pending registration inside the 60 s cooldown is refused and changes nothing", async () => {
    const { email } = await registerUser();
    const code = lastCode(email);
    const again = await post("/auth/register", { email, password: "another long password", full_name: "Intruder" });
    await expectProblem(again, 429, "rate_limited");
    const retryAfter = Number(again.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(messagesTo(email)).toHaveLength(1);
    const res = await post("/auth/verify-email", { email, code });
    expect(res.status).toBe(200);
    expect((await res.json<any>()).user).toMatchObject({ full_name: "Test User" });
  });

  it("tells the owner when a sign-up replaced an earlier one", async () => {
    const { email } = await registerUser();
    expect(messagesTo(email)[0]!.text).not.toMatch(/replaced/);
    await registerAt(Date.now() + AFTER_COOLDOWN_MS, { email });
    expect(messagesTo(email)[1]!.text).toMatch(/replaced an earlier one/);
  });

  it("a pending registration expires after 24 hours", async () => {
    const { deps, settle } = testDeps();
    const email = uniqueEmail();
    const registeredAt = Date.now();
    await registerUser({ email });
    // A code issued near the end of the registration's life lives past it (10 min), so only the
    // registration's own 24 h expiry can refuse it.
    await resendVerification(deps, email, NO_META, registeredAt + 24 * HOUR - 5 * MINUTE);
    await settle();
    expect(messagesTo(email)).toHaveLength(2);
    const code = lastCode(email);
    await expect(
      verifyEmailCode(deps, { email, code, device: { deviceId: "d-1", deviceName: null } }, NO_META, Date.now() + 24 * HOUR + MINUTE),
    ).rejects.toMatchObject({ code: "invalid_code" });
    await settle();
    expect(await userRows(email)).toBe(0);
  });

  it("a pending registration still works just before 24 hours", async () => {
    const { deps, settle } = testDeps();
    const email = uniqueEmail();
    const before = Date.now();
    await registerUser({ email });
    await resendVerification(deps, email, NO_META, before + 24 * HOUR - 5 * MINUTE);
    await settle();
    expect(messagesTo(email)).toHaveLength(2);
    const code = lastCode(email);
    await expect(
      verifyEmailCode(deps, { email, code, device: { deviceId: "d-1", deviceName: null } }, NO_META, before + 24 * HOUR - MINUTE),
    ).resolves.toMatchObject({ user: { email, is_email_verified: true } });
    await settle();
    expect(await userRows(email)).toBe(1);
  });

  it("login before verification answers invalid_credentials (there is no user yet)", async () => {
    const { email, password } = await registerUser();
    await expectProblem(await post("/auth/login", { email, password, device_id: "d-1" }), 401, "invalid_credentials");
    expect(await userRows(email)).toBe(0);
  });

  it("register for an already verified email answers email_taken, sends no code and tells the owner at most hourly", async () => {
    const { email } = await signedInUser();
    const sent = messagesTo(email).length;
    for (let i = 0; i < 3; i++) {
      await expectProblem(
        await post("/auth/register", { email, password: PASSWORD, full_name: "Someone Else" }),
        409,
        "email_taken",
      );
    }
    const notices = (await waitForMessages(email, sent + 1)).slice(sent);
    expect(notices).toHaveLength(1);
    expect(notices[0]!.text).not.toMatch(/\b\d{6}\b/);
    expect(notices[0]!.text).not.toContain("token=");
    expect(await userRows(email)).toBe(1);
  });

  it("sign-up as ADMIN is refused", async () => {
    const email = uniqueEmail();
    const res = await post("/auth/register", { email, password: PASSWORD, full_name: "Mallory", role: "ADMIN" });
    const body = await expectProblem(res, 400, "validation_error");
    expect(body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: "role" })]));
    expect(messagesTo(email)).toHaveLength(0);
    expect(await userRows(email)).toBe(0);
  });
});
