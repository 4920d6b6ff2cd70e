// Every SDK method once against the real Worker, and then a check that together they reached every
// operation of GET /openapi.json meant for clients: a route without an SDK method fails here.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { AuthError } from "../../sdk/src/index";
import snapshot from "../../sdk/openapi.json";
import { browserSignIn, newGoogleAccount, googleIdToken } from "../helpers/google-fake";
import {
  emailChangeCode,
  lastCode,
  lastLinkToken,
  lastSmsCode,
  messagesTo,
  PASSWORD,
  signedInUser,
  uniqueEmail,
  uniquePhone,
  waitForMessages,
} from "../helpers";
import { authOf, enrolTotp, JPEG, moveClock, PNG, restoreClock, SoftwareAuthenticator, totpCode } from "../helpers";
import { sdkClient, tokenResponse, type Sent } from "./sdk-helpers";

// Not the SDK's to call: service routes, the KYC provider's webhook, and the Google browser flow's
// navigations (googleStartUrl builds the first; the page it ends on calls googleExchange).
const NOT_FOR_THE_SDK = [
  "GET /health",
  "GET /.well-known/jwks.json",
  "POST /api/v1/kyc/webhook",
  "GET /api/v1/auth/google/start",
  "GET /api/v1/auth/google/callback",
];

const reached: Sent[] = [];
function tracked(options: Parameters<typeof sdkClient>[0] = {}) {
  const t = sdkClient(options);
  const sent = t.sent;
  sent.push = (...items: Sent[]) => (reached.push(...items), Array.prototype.push.apply(sent, items));
  return t;
}

async function adminClient() {
  const admin = await signedInUser({}, "sdk-admin");
  await enrolTotp(admin.tokens.access_token);
  await env.DB.prepare("UPDATE users SET role = 'ADMIN' WHERE id = ?").bind(admin.tokens.user.id).run();
  const { client } = tracked({ deviceId: "sdk-admin" });
  await client.setSession(tokenResponse(admin.tokens));
  return client;
}

describe("SDK methods against the Worker", () => {
  it("signs up with the emailed code, then reads and changes the profile", async () => {
    const { client, events } = tracked();
    const email = uniqueEmail("sdk");
    expect(await client.register({ email, password: PASSWORD, full_name: "Ada SDK" })).toEqual({ message: `Verification email sent to ${email}` });
    expect((await client.resendVerification({ email: uniqueEmail("nobody") })).message).toBeTypeOf("string");
    const signedIn = await client.verifyEmail({ email, code: lastCode(email) });
    expect(signedIn.user.email).toBe(email);
    expect(events.map((e) => e.event)).toEqual(["SIGNED_IN"]);
    expect((await client.getSession())?.refresh_token).toBe(signedIn.refresh_token);
    expect((await client.me()).email).toBe(email);
    expect((await client.updateProfile({ first_name: "Ada" })).first_name).toBe("Ada");
  });

  it("signs up through the emailed link: lookup, then activation with the password", async () => {
    const { client } = tracked();
    const email = uniqueEmail("sdk-link");
    await client.register({ email, password: PASSWORD, full_name: "Link User" });
    const token = lastLinkToken(email);
    expect((await client.lookupVerificationLink(token)).email).toBe(email);
    const r = await client.verifyLink({ token, password: PASSWORD });
    expect(r.message).toBeTypeOf("string");
    expect((await client.getSession())?.user?.email).toBe(email);
  });

  it("logs in (sending back its device token), lists and revokes sessions, refreshes, changes the password, logs out", async () => {
    const { email } = await signedInUser({}, "elsewhere");
    const { client, sent, events } = tracked();
    const first = await client.login({ email, password: PASSWORD });
    expect(first.device_token).toBeTypeOf("string");
    await client.login({ email, password: PASSWORD });
    const logins = sent.filter((r) => r.path === "/api/v1/auth/login");
    expect(logins[0]!.body!.device_token).toBeUndefined();
    expect(logins[1]!.body!.device_token).toBe(first.device_token);
    expect(logins[1]!.body!.device_id).toBe(await client.deviceId());

    const { sessions } = await client.sessions();
    const other = sessions.find((s) => !s.current && s.device_id === "elsewhere");
    expect(other).toBeDefined();
    expect(await client.revokeSession(other!.id)).toBeUndefined();

    const before = await client.getSession();
    const refreshed = await client.refresh();
    expect(refreshed?.refresh_token).not.toBe(before?.refresh_token);
    expect(refreshed?.user?.email).toBe(email);

    await client.changePassword({ current_password: PASSWORD, new_password: `${PASSWORD} two` });
    await client.logout();
    expect(await client.getSession()).toBeNull();
    expect(events.map((e) => e.event)).toEqual(["SIGNED_IN", "SIGNED_IN", "TOKEN_REFRESHED", "SIGNED_OUT"]);
    await expect(client.me()).rejects.toMatchObject({ status: 401, code: "invalid_access_token" });
  });

  it("resets a forgotten password and signs out of every session", async () => {
    const { email } = await signedInUser();
    const { client } = tracked();
    await client.login({ email, password: PASSWORD });
    const before = messagesTo(email).length;
    expect((await client.requestPasswordReset({ email })).message).toBeTypeOf("string");
    await waitForMessages(email, before + 1);
    await client.confirmPasswordReset({ email, code: lastCode(email), new_password: `${PASSWORD} reset` });
    const r = await client.logoutAll().catch((err: unknown) => err);
    expect(r).toBeInstanceOf(AuthError);
    expect(r).toMatchObject({ status: 401, code: "invalid_access_token" });

    await client.login({ email, password: `${PASSWORD} reset` });
    expect((await client.logoutAll()).revoked).toBe(1);
    expect(await client.getSession()).toBeNull();
  });

  it("signs in by phone code and by Google (ID token and the browser flow's exchange)", async () => {
    const { client } = tracked({ deviceId: "sdk-browser" });
    const phone = uniquePhone();
    expect((await client.sendPhoneOtp({ phone })).phone).toBe(phone);
    expect((await client.verifyPhoneOtp({ phone, otp: lastSmsCode(phone) })).created).toBe(true);

    const account = newGoogleAccount();
    expect((await client.googleSignIn({ id_token: await googleIdToken(account) })).user.email).toBe(account.email);
    expect(await client.googleStartUrl()).toContain("/api/v1/auth/google/start?device_id=sdk-browser");
    expect(await client.googleStartUrl(undefined, { role: "PROVIDER" })).toContain("device_id=sdk-browser&role=PROVIDER");
    const providerPhone = uniquePhone();
    await client.sendPhoneOtp({ phone: providerPhone });
    expect((await client.verifyPhoneOtp({ phone: providerPhone, otp: lastSmsCode(providerPhone), role: "PROVIDER" })).user.role).toBe("PROVIDER");
    const { exchangeCode } = await browserSignIn(account, "sdk-browser");
    expect((await client.googleExchange({ code: exchangeCode })).created).toBe(false);
    expect((await client.getSession())?.user?.email).toBe(account.email);
  });

  it("lists the ways in, links a Google account and removes it, refuses to remove the last way in", async () => {
    const { client } = tracked({ deviceId: "sdk-identities" });
    const user = await signedInUser({}, "sdk-identities");
    await client.setSession(tokenResponse(user.tokens));
    expect((await client.identities()).identities.map((i) => i.type)).toEqual(["password", "email_code"]);
    const account = newGoogleAccount();
    const linked = await client.linkGoogle({ id_token: await googleIdToken(account) });
    expect(linked.identity).toMatchObject({ type: "google", email: account.email });
    expect(await client.unlinkIdentity("google")).toBeUndefined();
    await expect(client.unlinkIdentity("google")).rejects.toMatchObject({ status: 404, code: "identity_not_found" });
    await expect(client.unlinkIdentity("password")).rejects.toMatchObject({ status: 409, code: "last_sign_in_method" });
  });

  it("signs in with an emailed code", async () => {
    const { email } = await signedInUser({}, "sdk-code-elsewhere");
    const { client, events } = tracked({ deviceId: "sdk-email-code" });
    const before = messagesTo(email).length;
    expect((await client.sendEmailCode({ email })).message).toBeTypeOf("string");
    await waitForMessages(email, before + 1);
    const signedIn = await client.verifyEmailCode({ email, code: lastCode(email) });
    expect(signedIn.user.email).toBe(email);
    expect(events.map((e) => e.event)).toEqual(["SIGNED_IN"]);
    expect((await client.getSession())?.refresh_token).toBe(signedIn.refresh_token);
  });

  it("submits KYC, and an admin lists, reads, approves and rejects applications, users and audit events", async () => {
    const admin = await adminClient();
    const applicants = [];
    for (let i = 0; i < 2; i++) {
      const { client } = tracked();
      await client.verifyEmail(await pendingSignUp());
      const { application } = await client.submitKyc({ document_type: "passport", front: new Blob([PNG]), back: new Blob([JPEG]) });
      expect(application.status).toBe("PENDING");
      expect((await client.kycStatus()).status).toBe("PENDING");
      applicants.push({ client, application });
    }
    const [a, b] = applicants as [(typeof applicants)[0], (typeof applicants)[0]];

    expect((await admin.admin.kyc({ status: "PENDING", limit: 100 })).applications.map((x) => x.id)).toEqual(
      expect.arrayContaining([a.application.id, b.application.id]),
    );
    const { application } = await admin.admin.kycApplication(a.application.id);
    const document = await admin.admin.kycDocument(a.application.id, application.documents[0]!.id);
    expect(new Uint8Array(await document.arrayBuffer())).toEqual(PNG);
    expect((await admin.admin.approveKyc(a.application.id)).application.status).toBe("APPROVED");
    expect((await admin.admin.rejectKyc(b.application.id, { reason: "Blurred" })).application.status).toBe("REJECTED");
    expect((await b.client.kycStatus()).rejection_reason).toBe("Blurred");

    const user = (await b.client.me()).email!;
    const { users } = await admin.admin.users({ query: user });
    expect(users.map((u) => u.email)).toEqual([user]);
    expect((await admin.admin.updateUser(users[0]!.id, { role: "PROVIDER" })).role).toBe("PROVIDER");
    expect((await admin.admin.revokeSessions(users[0]!.id)).revoked).toBe(1);
    expect((await admin.admin.audit({ user_id: users[0]!.id })).events.length).toBeGreaterThan(0);
    await expect(admin.admin.approveKyc(a.application.id)).rejects.toMatchObject({ status: 409, code: "already_decided" });

    // An app route through client.fetch: the Bearer token gets the CUSTOMER past 401 to the role check.
    const res = await a.client.fetch("http://auth.test/api/v1/provider/dashboard");
    expect(res.status).toBe(403);
  });

  it("exports the account and downloads a KYC file through the export's link", async () => {
    const { client } = tracked();
    await client.verifyEmail(await pendingSignUp());
    await client.submitKyc({ document_type: "passport", front: new Blob([PNG]) });
    const exported = await client.exportAccount();
    expect(exported.profile.id).toBe((await client.me()).id);
    const front = exported.kyc_applications[0]!.documents[0]!;
    const file = await client.downloadExportedDocument(front.download_url);
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(PNG);
    await expect(client.downloadExportedDocument(front.download_url.replace(/sig=[^&]+/, `sig=${"A".repeat(43)}`))).rejects.toMatchObject({
      status: 403,
      code: "invalid_download_link",
    });
  });

  it("enrols an authenticator app, signs in through the second step (MFA_REQUIRED), renews codes and removes it", async () => {
    const { email } = await signedInUser({}, "sdk-mfa-elsewhere");
    const { client, events } = tracked();
    await client.login({ email, password: PASSWORD });
    const { secret } = await client.enrollTotp();
    const { recovery_codes } = await client.confirmTotp({ code: totpCode(secret) });
    expect(recovery_codes).toHaveLength(10);
    expect(await client.mfaStatus()).toMatchObject({ totp: true, recovery_codes_left: 10 });

    const challenge = await client.login({ email, password: PASSWORD });
    expect(challenge).toMatchObject({ mfa_required: true });
    expect(events.map((e) => e.event)).toEqual(["SIGNED_IN", "MFA_REQUIRED"]);
    const mfaToken = (challenge as unknown as { mfa_token: string }).mfa_token;
    expect((await client.verifyMfa({ mfa_token: mfaToken, method: "totp", code: totpCode(secret, 1) })).user.email).toBe(email);
    expect(events.at(-1)!.event).toBe("SIGNED_IN");

    expect((await client.regenerateRecoveryCodes()).recovery_codes).toHaveLength(10);
    expect(await client.disableTotp()).toBeUndefined();
    expect((await client.mfaStatus()).totp).toBe(false);

    const admin = await adminClient();
    await client.enrollTotp();
    expect(await admin.admin.resetMfa((await client.me()).id)).toBeUndefined();
  });

  it("registers a passkey, signs in with it (no username, and as the second step), lists, renames and deletes it", async () => {
    const { email } = await signedInUser({}, "sdk-passkey-elsewhere");
    const { client, events } = tracked();
    await client.login({ email, password: PASSWORD });
    const authenticator = await SoftwareAuthenticator.create();
    const creation = await client.passkeyRegistrationOptions();
    const added = await client.addPasskey({ credential: (await authenticator.register(creation)) as never, name: "SDK key" });
    expect(added.name).toBe("SDK key");
    expect((await client.passkeys()).passkeys.map((p) => p.id)).toEqual([added.id]);
    expect((await client.renamePasskey(added.id, { name: "Renamed" })).name).toBe("Renamed");
    expect((await client.reauthenticateOptions()).challenge_id).toBeTypeOf("string");

    const options = await client.passkeySignInOptions();
    const signedIn = await client.passkeySignIn({ challenge_id: options.challenge_id, credential: (await authenticator.assert(options)) as never });
    expect((signedIn as { user: { email: string } }).user.email).toBe(email);
    expect(events.at(-1)!.event).toBe("SIGNED_IN");

    const challenge = (await client.login({ email, password: PASSWORD })) as unknown as { mfa_token: string; methods: string[] };
    expect(challenge.methods).toEqual(["passkey"]);
    const step = await client.mfaPasskeyOptions({ mfa_token: challenge.mfa_token });
    const credential = (await authenticator.assert(step)) as never;
    expect((await client.verifyMfa({ mfa_token: challenge.mfa_token, method: "passkey", credential })).user.email).toBe(email);

    expect(await client.deletePasskey(added.id)).toBeUndefined();
    await expect(client.deletePasskey(added.id)).rejects.toMatchObject({ status: 404, code: "passkey_not_found" });
  });

  it("reauthenticates: a new access token with a fresh auth_time in the session, the refresh token kept (TOKEN_REFRESHED)", async () => {
    const { email } = await signedInUser({}, "sdk-reauth-elsewhere");
    const { client, events } = tracked();
    await client.login({ email, password: PASSWORD });
    const before = (await client.getSession())!;
    moveClock(11 * 60_000);
    try {
      await expect(client.changePassword({ current_password: PASSWORD, new_password: `${PASSWORD} two` })).rejects.toMatchObject({
        status: 403,
        code: "reauthentication_required",
      });
      const answer = await client.reauthenticate({ password: PASSWORD });
      const after = (await client.getSession())!;
      expect(after.access_token).toBe(answer.access_token);
      expect(after.access_token).not.toBe(before.access_token);
      expect(after.refresh_token).toBe(before.refresh_token);
      expect(after.user?.email).toBe(email);
      expect(authOf(after.access_token).auth_time).toBeGreaterThan(authOf(before.access_token).auth_time);
      expect(events.map((e) => e.event)).toEqual(["SIGNED_IN", "TOKEN_REFRESHED"]);
      expect(events.at(-1)!.session?.access_token).toBe(answer.access_token);
      await client.changePassword({ current_password: PASSWORD, new_password: `${PASSWORD} two` });
    } finally {
      restoreClock();
    }
  });

  it("deletes the account (the session is cleared, SIGNED_OUT), and an admin deletes another user", async () => {
    const { email } = await signedInUser({}, "sdk-delete-elsewhere");
    const { client, events } = tracked();
    await client.login({ email, password: PASSWORD });
    expect(await client.deleteAccount()).toBeUndefined();
    expect(events.map((e) => e.event)).toEqual(["SIGNED_IN", "SIGNED_OUT"]);
    expect(await client.getSession()).toBeNull();
    const refused = await client.login({ email, password: PASSWORD }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(AuthError);
    expect((refused as AuthError).code).toBe("invalid_credentials");

    const other = await signedInUser({}, "sdk-deleted-by-admin");
    const admin = await adminClient();
    expect(await admin.admin.deleteUser(other.tokens.user.id)).toBeUndefined();
    const gone = await admin.admin.deleteUser(other.tokens.user.id).catch((err: unknown) => err);
    expect((gone as AuthError).code).toBe("user_not_found");
  });

  it("changes the account: proves an email and a new number, sets a first password (a phone sign-up)", async () => {
    const { client } = tracked({ deviceId: "sdk-account" });
    const phone = uniquePhone();
    await client.sendPhoneOtp({ phone });
    await client.verifyPhoneOtp({ phone, otp: lastSmsCode(phone) });

    const email = uniqueEmail("sdk-change");
    expect((await client.changeEmail({ new_email: email })).email).toBe(email);
    expect(await client.confirmEmailChange({ code: emailChangeCode(email) })).toMatchObject({ email, is_email_verified: true });

    const next = uniquePhone();
    expect((await client.changePhone({ phone: next })).phone).toBe(next);
    expect(await client.confirmPhoneChange({ otp: lastSmsCode(next) })).toMatchObject({ phone: next, is_phone_verified: true });

    expect((await client.setPassword({ new_password: `${PASSWORD} first` })).message).toBeTypeOf("string");
    await expect(client.setPassword({ new_password: `${PASSWORD} again` })).rejects.toMatchObject({ status: 409, code: "password_exists" });
  });

  it("reached every operation of /openapi.json meant for clients", () => {
    const operations = Object.entries(snapshot.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const patterns = operations.map((op) => ({ op, re: new RegExp(`^${op.replace(/\{\w+\}/g, "[^/]+")}$`) }));
    const hit = new Set(reached.map((r) => patterns.find((p) => p.re.test(`${r.method} ${r.path}`))?.op));
    const missing = operations.filter((op) => !hit.has(op) && !NOT_FOR_THE_SDK.includes(op));
    expect(missing).toEqual([]);
  });
});

async function pendingSignUp() {
  const email = uniqueEmail("kyc");
  const { client } = sdkClient();
  await client.register({ email, password: PASSWORD, full_name: "Kyc User" });
  return { email, code: lastCode(email) };
}
