// Invariant: a passkey is one of the proofs POST /auth/reauthenticate takes, and passkey changes
// need a recent sign-in. A token signed in 11 minutes ago cannot add or delete a passkey; after
// reauthenticating with a passkey (to the challenge of POST /auth/reauthenticate/options) it can.
// The options' challenge works once, and only for its user's own passkeys.
import { afterEach, describe, expect, it } from "vitest";
import {
  authed,
  authOf,
  expectProblem,
  moveClock,
  post,
  reauthenticate,
  registerPasskey,
  restoreClock,
  signedInUser,
  type Json,
  type RequestOptions,
} from "../helpers";

const ELEVEN_MINUTES = 11 * 60_000;

afterEach(restoreClock);

async function reauthOptions(token: string): Promise<RequestOptions & { challenge_id: string }> {
  const res = await post("/auth/reauthenticate/options", {}, { authorization: `Bearer ${token}` });
  expect(res.status).toBe(200);
  return res.json<RequestOptions & { challenge_id: string }>();
}

describe("step-up with a passkey", () => {
  it("a stale token cannot delete a passkey or start a new one; after a passkey reauthentication it can", async () => {
    const { tokens } = await signedInUser({}, "stale-passkey");
    const { authenticator, passkey } = await registerPasskey(tokens.access_token);
    moveClock(ELEVEN_MINUTES);

    await expectProblem(await authed(tokens.access_token, `/users/me/passkeys/${String(passkey.id)}`, { method: "DELETE" }), 403, "reauthentication_required");
    await expectProblem(await authed(tokens.access_token, "/users/me/passkeys/options", { method: "POST" }), 403, "reauthentication_required");

    const options = await reauthOptions(tokens.access_token);
    const res = await reauthenticate(tokens.access_token, { passkey: await authenticator.assert(options), challenge_id: options.challenge_id });
    expect(res.status).toBe(200);
    const fresh = await res.json<Json>();
    const claims = authOf(String(fresh.access_token));
    expect(claims.sid).toBe(authOf(tokens.access_token).sid);
    expect(claims.amr).toEqual(["hwk", "mfa"]);
    expect(claims.auth_time).toBeGreaterThan(authOf(tokens.access_token).auth_time);

    const fresher = String(fresh.access_token);
    expect((await authed(fresher, "/users/me/passkeys/options", { method: "POST" })).status).toBe(200);
    expect((await authed(fresher, `/users/me/passkeys/${String(passkey.id)}`, { method: "DELETE" })).status).toBe(204);
  });

  it("the challenge works once, and another user's passkey is refused", async () => {
    const owner = await signedInUser({}, "reauth-passkey-owner");
    const other = await signedInUser({}, "reauth-passkey-other");
    const { authenticator } = await registerPasskey(owner.tokens.access_token);
    const stranger = await registerPasskey(other.tokens.access_token);

    const options = await reauthOptions(owner.tokens.access_token);
    const credential = await authenticator.assert(options);
    const [first, second] = await Promise.all([
      reauthenticate(owner.tokens.access_token, { passkey: credential, challenge_id: options.challenge_id }),
      reauthenticate(owner.tokens.access_token, { passkey: credential, challenge_id: options.challenge_id }),
    ]);
    expect([first.status, second.status].sort()).toEqual([200, 400]);
    const refused = first.status === 400 ? first : second;
    expect((await refused.json<Json>()).code).toBe("invalid_passkey");

    const again = await reauthOptions(owner.tokens.access_token);
    await expectProblem(
      await reauthenticate(owner.tokens.access_token, { passkey: await stranger.authenticator.assert(again), challenge_id: again.challenge_id }),
      400,
      "invalid_passkey",
    );
  });
});
