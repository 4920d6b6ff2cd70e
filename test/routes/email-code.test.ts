// Passwordless sign-in: POST /auth/email/send-code emails a 6-digit code to an account's verified
// address, POST /auth/email/verify-code signs in with it through the one sign-in pipeline (the
// second-factor challenge included), and both are audited.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sendEmailSignInCode, verifyEmailSignInCode } from "../../src/domain/email-code";
import {
  adminUser,
  authed,
  enrolTotp,
  expectProblem,
  lastCode,
  mfaTokenOf,
  NO_META,
  patchUser,
  pollUntil,
  sendEmailCode,
  signedInUser,
  testDeps,
  totpCode,
  verifyEmailCode,
  verifyMfa,
  wrongCode,
  type Json,
} from "../helpers";

const CODE_TTL_MS = 600_000;
const device = { deviceId: "d", deviceName: null };

describe("email sign-in code", () => {
  it("signs in with the emailed code: tokens, the user, a session on the named device", async () => {
    const { email, tokens } = await signedInUser({}, "elsewhere");
    const code = await sendEmailCode(email);
    const res = await verifyEmailCode(email, code, { device_name: "Laptop" });
    expect(res.status).toBe(200);
    const body = await res.json<Json>();
    expect(body).toMatchObject({ token_type: "Bearer", user: { id: tokens.user.id, email, is_email_verified: true } });
    expect(body.mfa_required).toBeUndefined();
    expect((await authed(body.access_token, "/users/me")).status).toBe(200);
    const sessions = await (await authed(body.access_token, "/auth/sessions")).json<Json>();
    expect(sessions.sessions.map((s: Json) => s.device_name)).toContain("Laptop");
  });

  it("reads the address in any case", async () => {
    const { email } = await signedInUser();
    const code = await sendEmailCode(email);
    expect((await verifyEmailCode(email.toUpperCase(), code)).status).toBe(200);
  });

  it("a user with an authenticator app gets the challenge, and finishes with POST /auth/mfa/verify", async () => {
    const { email, tokens } = await signedInUser({}, "mfa-elsewhere");
    const { secret } = await enrolTotp(tokens.access_token as string);
    const code = await sendEmailCode(email);
    const mfaToken = await mfaTokenOf(await verifyEmailCode(email, code));
    const finished = await verifyMfa(mfaToken, "totp", totpCode(secret, 1));
    expect(finished.status).toBe(200);
    const body = await finished.json<Json>();
    expect(body.user.email).toBe(email);
    expect((await authed(body.access_token, "/users/me")).status).toBe(200);
  });

  it("a right code for an account deactivated since it was sent answers 403 account_disabled; a wrong one still 400", async () => {
    const admin = (await adminUser()).token;
    const { email, tokens } = await signedInUser();
    const code = await sendEmailCode(email);
    expect((await patchUser(admin, tokens.user.id, { is_active: false })).status).toBe(200);
    await expectProblem(await verifyEmailCode(email, wrongCode(code, 0)), 400, "invalid_code");
    await expectProblem(await verifyEmailCode(email, code), 403, "account_disabled");
  });

  it("a code sent before the account's address changed does not sign in", async () => {
    const { email, tokens } = await signedInUser();
    const code = await sendEmailCode(email);
    await env.DB.prepare("UPDATE users SET email = ? WHERE id = ?").bind(`moved-${email}`, tokens.user.id).run();
    await expectProblem(await verifyEmailCode(email, code), 400, "invalid_code");
  });

  it("a code works until 10 minutes after it was sent, not after", async () => {
    const { deps, settle } = testDeps();
    const sentAt = Date.now() + 3600_000;
    const late = (await signedInUser()).email;
    await sendEmailSignInCode(deps, late, NO_META, sentAt);
    await settle();
    await expect(
      verifyEmailSignInCode(deps, { email: late, code: lastCode(late), device }, NO_META, sentAt + CODE_TTL_MS),
    ).rejects.toMatchObject({ code: "invalid_code" });

    const inTime = (await signedInUser()).email;
    await sendEmailSignInCode(deps, inTime, NO_META, sentAt);
    await settle();
    const signedIn = await verifyEmailSignInCode(deps, { email: inTime, code: lastCode(inTime), device }, NO_META, sentAt + CODE_TTL_MS - 1000);
    expect(signedIn).toMatchObject({ kind: "session", user: { email: inTime } });
  });

  it("requires device_id and a 6-digit code", async () => {
    const { email } = await signedInUser();
    await expectProblem(await verifyEmailCode(email, "123456", { device_id: undefined }), 400, "validation_error");
    await expectProblem(await verifyEmailCode(email, "12345"), 400, "validation_error");
    await expectProblem(await verifyEmailCode(email, "abcdef"), 400, "validation_error");
  });

  it("audits the request, the failure and the sign-in, with no code in any row", async () => {
    const { email, tokens } = await signedInUser();
    const userId = tokens.user.id as string;
    const code = await sendEmailCode(email, { "CF-Connecting-IP": "198.51.100.201" });
    await expectProblem(await verifyEmailCode(email, wrongCode(code, 0)), 400, "invalid_code");
    expect((await verifyEmailCode(email, code)).status).toBe(200);
    type Row = { action: string; subject_id: string | null; ip: string | null; details: string };
    const rows = await pollUntil(
      async () =>
        (
          await env.DB.prepare("SELECT action, subject_id, ip, details FROM audit_events WHERE subject_id = ? OR details LIKE ? ORDER BY at, id")
            .bind(userId, `%${email}%`)
            .all<Row>()
        ).results,
      (r) => r.some((x) => x.action === "login.succeeded" && x.details.includes("email_code")),
    );
    const requested = rows.find((r) => r.action === "login.code_requested")!;
    expect(requested).toMatchObject({ subject_id: userId, ip: "198.51.100.201" });
    expect(JSON.parse(requested.details)).toEqual({ method: "email_code", email, sent: true });
    const failed = rows.find((r) => r.action === "login.failed")!;
    expect(JSON.parse(failed.details)).toEqual({ method: "email_code", email, reason: "invalid_code" });
    const succeeded = rows.filter((r) => r.action === "login.succeeded").at(-1)!;
    expect(JSON.parse(succeeded.details)).toMatchObject({ method: "email_code", device_id: "email-code-device" });
    for (const row of rows) expect(row.details).not.toContain(code);
  });
});
