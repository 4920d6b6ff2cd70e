// Invariant: a passkey sign-in succeeds only with a signature by a registered passkey over a live
// challenge issued by this service, made for one of WEBAUTHN_ORIGINS and WEBAUTHN_RP_ID, with a
// counter that goes forward. Everything else is 400 invalid_passkey (an unknown credential 401
// unknown_passkey), with the precise reason in the audit row and never in the answer; in the
// second step, another user's passkey is refused like a wrong code.
import { describe, expect, it } from "vitest";
import { base64url, fromBase64url } from "../../src/domain/crypto";
import { passkeySignInOptions, signInWithPasskey } from "../../src/domain/passkey-sign-in";
import {
  adminUser,
  auditReasons,
  customerUser,
  expectProblem,
  login,
  NO_META,
  passkeySignIn,
  passkeySignInOptions as optionsRoute,
  post,
  registerPasskey,
  signedInUser,
  SoftwareAuthenticator,
  testDeps,
  PASSWORD,
  type Json,
} from "../helpers";

const DEVICE = { deviceId: "expiry-device", deviceName: null };

async function expectRefused(res: Response, userId: string, reason: string): Promise<void> {
  const body = await expectProblem(res, 400, "invalid_passkey");
  expect(JSON.stringify(body)).not.toContain(reason);
  expect(await auditReasons("passkey.failed", userId)).toContain(reason);
}

describe("passkey assertions", () => {
  it("refuses an assertion made for another origin", async () => {
    const { token, id } = await customerUser();
    const { authenticator } = await registerPasskey(token);
    await expectRefused(await passkeySignIn(authenticator, { origin: "https://auth.example.evil" }), id, "wrong_origin");
  });

  it("refuses an assertion made for another relying party id", async () => {
    const { token, id } = await customerUser();
    const { authenticator } = await registerPasskey(token);
    await expectRefused(await passkeySignIn(authenticator, { rpId: "evil.example" }), id, "wrong_rp_id");
  });

  it("refuses a replayed challenge: the same signed answer twice", async () => {
    const { token, id } = await customerUser();
    const { authenticator } = await registerPasskey(token);
    const options = await optionsRoute();
    const credential = await authenticator.assert(options);
    const body = { challenge_id: options.challenge_id, credential, device_id: "replay" };
    expect((await post("/auth/passkey/verify", body)).status).toBe(200);
    await expectProblem(await post("/auth/passkey/verify", body), 400, "invalid_passkey");
    // A fresh challenge_id does not revive the old signature either.
    const fresh = await optionsRoute();
    await expectRefused(await post("/auth/passkey/verify", { ...body, challenge_id: fresh.challenge_id }), id, "challenge_mismatch");
  });

  it("refuses a challenge past its five minutes", async () => {
    const { token, id } = await customerUser();
    const { authenticator } = await registerPasskey(token);
    const { deps, settle } = testDeps();
    const issued = Date.now();
    const options = await passkeySignInOptions(deps, NO_META, issued);
    const credential = (await authenticator.assert(options)) as never;
    const late = issued + 5 * 60_000;
    await expect(signInWithPasskey(deps, { challengeId: options.challenge_id, credential, device: DEVICE }, NO_META, late)).rejects.toMatchObject({
      code: "invalid_passkey",
      status: 400,
    });
    await settle();
    // Just inside the five minutes, a new challenge works.
    const again = await passkeySignInOptions(deps, NO_META, issued);
    const inTime = (await authenticator.assert(again)) as never;
    await expect(
      signInWithPasskey(deps, { challengeId: again.challenge_id, credential: inTime, device: DEVICE }, NO_META, late - 1),
    ).resolves.toMatchObject({ kind: "session" });
    await settle();
    expect(await auditReasons("passkey.failed", id)).toEqual(["challenge_expired"]);
  });

  it("refuses a counter that does not go forward, and audits a possible clone", async () => {
    const { token, id } = await customerUser();
    const { authenticator } = await registerPasskey(token);
    expect((await passkeySignIn(authenticator, { counter: 7 })).status).toBe(200);
    await expectRefused(await passkeySignIn(authenticator, { counter: 7 }), id, "counter_regressed");
    await expectRefused(await passkeySignIn(authenticator, { counter: 3 }), id, "counter_regressed");
    expect(await auditReasons("passkey.counter_regressed", id, 2)).toHaveLength(2);
    expect((await passkeySignIn(authenticator, { counter: 8 })).status).toBe(200);
  });

  it("refuses a bad signature and a user handle naming another user", async () => {
    const { token, id } = await customerUser();
    const { authenticator } = await registerPasskey(token);
    const options = await optionsRoute();
    const credential = await authenticator.assert(options);
    // The signed authenticator data with its counter raised afterwards: the signature no longer covers it.
    const authData = fromBase64url(credential.response.authenticatorData);
    authData[36] = authData[36]! + 1;
    const tampered = { ...credential, response: { ...credential.response, authenticatorData: base64url(authData) } };
    await expectRefused(await post("/auth/passkey/verify", { challenge_id: options.challenge_id, credential: tampered, device_id: "d" }), id, "bad_signature");
    const other = await customerUser();
    await expectRefused(await passkeySignIn(authenticator, { userHandle: btoa(other.id).replace(/=+$/, "") }), id, "user_handle_mismatch");
  });

  it("answers 401 unknown_passkey for a credential no one registered", async () => {
    const stranger = await SoftwareAuthenticator.create();
    stranger.userHandle = "c29tZW9uZQ";
    await expectProblem(await passkeySignIn(stranger), 401, "unknown_passkey");
  });

  it("an unknown or malformed challenge_id is invalid_passkey", async () => {
    const { token } = await customerUser();
    const { authenticator } = await registerPasskey(token);
    const credential = await authenticator.assert({ challenge: "c29tZS1jaGFsbGVuZ2UtdGhhdC13YXMtbmV2ZXItaXNzdWVk" });
    await expectProblem(await post("/auth/passkey/verify", { challenge_id: crypto.randomUUID(), credential, device_id: "d" }), 400, "invalid_passkey");
    await expectProblem(await post("/auth/passkey/verify", { challenge_id: "nope", credential, device_id: "d" }), 400, "validation_error");
  });

  it("second step: another user's passkey is refused, counted as an attempt, and the user's own then works", async () => {
    const { tokens, email } = await signedInUser();
    const mine = (await registerPasskey(tokens.access_token)).authenticator;
    const theirs = (await registerPasskey((await customerUser()).token)).authenticator;
    const challenge = await login(email, PASSWORD, "two-step");
    expect(challenge.methods).toEqual(["passkey"]);
    const options = await (await post("/auth/mfa/passkey/options", { mfa_token: challenge.mfa_token })).json<Json>();
    const foreign = await theirs.assert(options as { challenge: string });
    await expectProblem(await post("/auth/mfa/verify", { mfa_token: challenge.mfa_token, method: "passkey", credential: foreign }), 400, "invalid_passkey");
    expect(await auditReasons("mfa.failed", tokens.user.id)).toEqual(["other_users_credential"]);

    // That challenge was spent by the refused answer; a new one for the same mfa_token works.
    const spent = await mine.assert(options as { challenge: string });
    await expectProblem(await post("/auth/mfa/verify", { mfa_token: challenge.mfa_token, method: "passkey", credential: spent }), 400, "invalid_passkey");
    const next = await (await post("/auth/mfa/passkey/options", { mfa_token: challenge.mfa_token })).json<Json>();
    const res = await post("/auth/mfa/verify", { mfa_token: challenge.mfa_token, method: "passkey", credential: await mine.assert(next as { challenge: string }) });
    expect(res.status).toBe(200);
  });

  it("second step: a challenge issued for one mfa_token does not finish another", async () => {
    const { tokens, email } = await signedInUser();
    const { authenticator } = await registerPasskey(tokens.access_token);
    const first = await login(email, PASSWORD, "a");
    const second = await login(email, PASSWORD, "b");
    const options = await (await post("/auth/mfa/passkey/options", { mfa_token: first.mfa_token })).json<Json>();
    const credential = await authenticator.assert(options as { challenge: string });
    await expectProblem(await post("/auth/mfa/verify", { mfa_token: second.mfa_token, method: "passkey", credential }), 400, "invalid_passkey");
    expect(await auditReasons("mfa.failed", tokens.user.id)).toEqual(["challenge_mismatch"]);
  });

  it("second step: after a passkey sign-in without user verification, a passkey cannot be the second factor", async () => {
    const admin = await adminUser();
    const { authenticator } = await registerPasskey(admin.token);
    const challenge = await (await passkeySignIn(authenticator, { uv: false })).json<Json>();
    expect(challenge).toMatchObject({ mfa_required: true, methods: ["totp", "recovery_code"] });
    const options = await (await post("/auth/mfa/passkey/options", { mfa_token: challenge.mfa_token })).json<Json>();
    const credential = await authenticator.assert(options as { challenge: string });
    await expectProblem(await post("/auth/mfa/verify", { mfa_token: challenge.mfa_token, method: "passkey", credential }), 400, "invalid_passkey");
    expect(await auditReasons("mfa.failed", admin.id)).toEqual(["method_not_offered"]);
  });

  it("second step: five wrong passkey answers burn the mfa_token, as wrong codes do", async () => {
    const { tokens, email } = await signedInUser();
    await registerPasskey(tokens.access_token);
    const challenge = await login(email, PASSWORD, "burn");
    const answers = await Promise.all(
      Array.from({ length: 12 }, () =>
        post("/auth/mfa/verify", { mfa_token: challenge.mfa_token, method: "passkey", credential: { id: "AAAA", rawId: "AAAA", type: "public-key", response: { clientDataJSON: "e30", authenticatorData: "AA", signature: "AA" } } }),
      ),
    );
    const codes = await Promise.all(answers.map(async (r) => `${r.status} ${(await r.json<Json>()).code}`));
    expect(codes.filter((c) => c === "400 invalid_passkey")).toHaveLength(5);
    expect(codes.filter((c) => c === "429 too_many_attempts")).toHaveLength(7);
    const options = await post("/auth/mfa/passkey/options", { mfa_token: challenge.mfa_token });
    await expectProblem(options, 401, "invalid_mfa_token");
  });
});
