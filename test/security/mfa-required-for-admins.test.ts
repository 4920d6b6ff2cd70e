// Invariant: a user whose role is in MFA_REQUIRED_ROLES (ADMIN by default) reaches no admin route
// until they have a second factor (an authenticator app or a passkey): 403 mfa_enrollment_required, while the enrolment routes stay open.
// An administrator's reset of another user's factors puts that user back behind the gate, audited.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { adminUser, authed, enrolTotp, expectProblem, makeAdmin, registerPasskey, signedInUser } from "../helpers";

describe("second factor required for admins", () => {
  it("an admin without a second factor gets 403 mfa_enrollment_required until they enrol", async () => {
    const { tokens } = await signedInUser();
    const token = tokens.access_token as string;
    await makeAdmin(tokens.user.id);
    await expectProblem(await authed(token, "/admin/users"), 403, "mfa_enrollment_required");
    await expectProblem(await authed(token, "/admin/audit"), 403, "mfa_enrollment_required");
    expect(await (await authed(token, "/users/me/mfa")).json()).toMatchObject({ totp: false, required: true });
    await enrolTotp(token);
    expect((await authed(token, "/admin/users")).status).toBe(200);
  });

  it("a passkey counts as the second factor; the reset removes it and gates the admin again", async () => {
    const { tokens } = await signedInUser();
    const token = tokens.access_token as string;
    await makeAdmin(tokens.user.id);
    await expectProblem(await authed(token, "/admin/users"), 403, "mfa_enrollment_required");
    await registerPasskey(token);
    expect((await authed(token, "/admin/users")).status).toBe(200);
    const admin = await adminUser();
    expect((await authed(admin.token, `/admin/users/${tokens.user.id}/mfa/reset`, { method: "POST" })).status).toBe(204);
    await expectProblem(await authed(token, "/admin/users"), 403, "mfa_enrollment_required");
  });

  it("a customer is refused as before (forbidden), whatever their factors", async () => {
    const { tokens } = await signedInUser();
    await expectProblem(await authed(tokens.access_token as string, "/admin/users"), 403, "forbidden");
  });

  it("POST /admin/users/{id}/mfa/reset removes another admin's factors: they are gated again; audited", async () => {
    const admin = await adminUser();
    const colleague = await adminUser({}, "colleague-device");
    expect((await authed(colleague.token, "/admin/users")).status).toBe(200);
    const reset = await authed(admin.token, `/admin/users/${colleague.id}/mfa/reset`, { method: "POST" });
    expect(reset.status).toBe(204);
    await expectProblem(await authed(colleague.token, "/admin/users"), 403, "mfa_enrollment_required");
    await expectProblem(await authed(admin.token, `/admin/users/${crypto.randomUUID()}/mfa/reset`, { method: "POST" }), 404, "user_not_found");
    await new Promise((r) => setTimeout(r, 50));
    const row = await env.DB.prepare("SELECT actor_id FROM audit_events WHERE action = 'mfa.reset' AND subject_id = ?")
      .bind(colleague.id)
      .first<{ actor_id: string }>();
    expect(row).toEqual({ actor_id: admin.id });
  });
});
