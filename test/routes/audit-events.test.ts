// The audit log records who did what to whom, from where: sign-ins and failures, registrations and
// verifications, refresh reuse, logouts, session revocations, password resets and changes. Events
// carry time, actor, subject, IP, user agent and request id, and never a password, code or token.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { refresh } from "../../src/domain/session-tokens";
import {
  authed,
  lastCode,
  lastSmsCode,
  login,
  PASSWORD,
  pollUntil,
  post,
  signedInUser,
  testDeps,
  uniquePhone,
  waitForMessages,
} from "../helpers";

type Row = { action: string; actor_id: string | null; subject_id: string | null; ip: string | null; user_agent: string | null; request_id: string | null; details: string | null };

/** The subject's audit rows in order, once they include `expected` (they are written after the answer). */
async function eventsFor(subjectId: string, expected: string[]): Promise<Row[]> {
  return pollUntil(
    async () => (await env.DB.prepare("SELECT * FROM audit_events WHERE subject_id = ? ORDER BY at, id").bind(subjectId).all<Row>()).results,
    (rows) => expected.every((a) => rows.some((r) => r.action === a)),
  );
}

const HEADERS = { "CF-Connecting-IP": "192.0.2.44", "User-Agent": "audit-test/1.0" };

describe("audit events", () => {
  it("records registration, verification, sign-ins, failures and logouts with request context", async () => {
    const email = `audit-${crypto.randomUUID().slice(0, 8)}@example.com`;
    await post("/auth/register", { email, password: PASSWORD, full_name: "Audit" }, HEADERS);
    const verified = await post("/auth/verify-email", { email, code: lastCode(email), device_id: "d1" }, HEADERS);
    const { user, access_token, refresh_token } = await verified.json<any>();
    await post("/auth/login", { email, password: "wrong password here", device_id: "d2" }, HEADERS);
    const other = await login(email, PASSWORD, "d3");
    await post("/auth/logout", { refresh_token });
    expect((await authed(other.access_token, "/auth/logout-all", { method: "POST" })).status).toBe(200);

    const rows = await eventsFor(user.id, ["email.verified", "user.created", "login.succeeded", "login.failed", "session.logout", "session.logout_all"]);
    const actions = rows.map((r) => r.action);
    for (const a of ["email.verified", "user.created", "login.succeeded", "login.failed", "session.logout", "session.logout_all"]) {
      expect(actions).toContain(a);
    }
    const failure = rows.find((r) => r.action === "login.failed")!;
    expect(failure).toMatchObject({ ip: "192.0.2.44", user_agent: "audit-test/1.0" });
    expect(failure.request_id).toBeTruthy();
    expect(JSON.parse(failure.details!)).toMatchObject({ reason: "wrong_password" });
    const started = await env.DB.prepare("SELECT * FROM audit_events WHERE action = 'registration.started' AND details LIKE ?")
      .bind(`%${email}%`)
      .first<Row>();
    expect(started).toBeTruthy();
    // nothing secret in any event
    const all = JSON.stringify(rows) + JSON.stringify(started);
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain(refresh_token);
    expect(all).not.toContain(access_token);
  });

  it("records refresh reuse, session revocation, password change and reset", async () => {
    const { email, tokens } = await signedInUser();
    const userId = tokens.user.id as string;
    const second = await login(email, PASSWORD, "laptop");
    // reuse: rotate, then replay the spent token after the grace window
    const { deps, settle } = testDeps();
    const rotated = await refresh(deps, { refreshToken: second.refresh_token, deviceId: "laptop" }, Date.now());
    await expect(refresh(deps, { refreshToken: second.refresh_token, deviceId: "laptop" }, Date.now() + 11_000)).rejects.toMatchObject({
      code: "refresh_token_reused",
    });
    await settle();
    expect(rotated.refresh_token).toBeTruthy();
    const third = await login(email, PASSWORD, "tablet");
    const sessions = (await (await authed(tokens.access_token, "/auth/sessions")).json<any>()).sessions;
    const tablet = sessions.find((s: any) => s.device_id === "tablet");
    await authed(tokens.access_token, `/auth/sessions/${tablet.id}`, { method: "DELETE" });
    await authed(tokens.access_token, "/auth/password/change", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ current_password: PASSWORD, new_password: "a different passphrase" }),
    });
    await post("/auth/password-reset/request", { email });
    await waitForMessages(email, 2);
    await post("/auth/password-reset/confirm", { email, code: lastCode(email), new_password: "the third passphrase" });
    expect(third.access_token).toBeTruthy();

    const actions = (
      await eventsFor(userId, ["refresh.reuse_detected", "session.revoked", "password.changed", "password.reset_requested", "password.reset"])
    ).map((r) => r.action);
    for (const a of ["refresh.reuse_detected", "session.revoked", "password.changed", "password.reset_requested", "password.reset"]) {
      expect(actions).toContain(a);
    }
  });

  it("records the sign-in of a phone user (created) without the code", async () => {
    const phone = uniquePhone();
    await post("/auth/phone/send-otp", { phone });
    const otp = lastSmsCode(phone);
    const res = await post("/auth/phone/verify-otp", { phone, otp, device_id: "p" });
    const { user } = await res.json<any>();
    const rows = await eventsFor(user.id, ["user.created", "login.succeeded"]);
    expect(rows.map((r) => r.action)).toEqual(expect.arrayContaining(["user.created", "login.succeeded"]));
    expect(JSON.stringify(rows)).not.toContain(otp);
  });
});
