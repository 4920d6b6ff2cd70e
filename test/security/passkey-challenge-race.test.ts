// Invariant: a WebAuthn challenge is taken once. Twenty parallel answers to one challenge (the same
// signed assertion sent twenty times, as a replaying attacker or a double-clicking browser would)
// give exactly one session; the rest are invalid_passkey. The same holds for a registration
// challenge (one passkey stored) and a step-up challenge (one success).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { verifyReauthPasskey } from "../../src/domain/passkey-sign-in";
import {
  authed,
  customerUser,
  outcome,
  passkeyCreationOptions,
  passkeySignInOptions,
  post,
  registerPasskey,
  SoftwareAuthenticator,
  tally,
  testDeps,
  type Json,
} from "../helpers";

const BURST = 20;

describe("one answer per challenge", () => {
  it("20 parallel sign-ins with one challenge: exactly one session", async () => {
    const { token } = await customerUser();
    const { authenticator } = await registerPasskey(token);
    const options = await passkeySignInOptions();
    const credential = await authenticator.assert(options);
    const answers = await Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        post("/auth/passkey/verify", { challenge_id: options.challenge_id, credential, device_id: `race-${i}` }),
      ),
    );
    expect(tally(await Promise.all(answers.map(outcome)))).toEqual({ "200 ok": 1, "400 invalid_passkey": BURST - 1 });
    const sessions = await (await authed(token, "/auth/sessions")).json<Json>();
    expect(sessions.sessions.filter((s: Json) => String(s.device_id).startsWith("race-"))).toHaveLength(1);
  });

  it("20 parallel registrations with one challenge: exactly one passkey stored", async () => {
    const { token, id } = await customerUser();
    const options = await passkeyCreationOptions(token);
    const authenticators = await Promise.all(Array.from({ length: BURST }, () => SoftwareAuthenticator.create()));
    const answers = await Promise.all(
      authenticators.map(async (a) => post("/users/me/passkeys", { credential: await a.register(options) }, { authorization: `Bearer ${token}` })),
    );
    expect(tally(await Promise.all(answers.map(outcome)))).toEqual({ "201 ok": 1, "400 invalid_passkey": BURST - 1 });
    const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM passkeys WHERE user_id = ?").bind(id).first<{ n: number }>();
    expect(row?.n).toBe(1);
  });

  it("20 parallel step-ups with one challenge: exactly one accepted", async () => {
    const { token, id } = await customerUser();
    const { authenticator } = await registerPasskey(token);
    const options = await (await authed(token, "/auth/reauthenticate/options", { method: "POST" })).json<Json>();
    const credential = (await authenticator.assert(options as { challenge: string })) as never;
    const { deps, settle } = testDeps();
    const results = await Promise.allSettled(
      Array.from({ length: BURST }, () => verifyReauthPasskey(deps, { id }, { challengeId: options.challenge_id, credential }, Date.now())),
    );
    await settle();
    expect(results.filter((r) => r.status === "fulfilled")).toEqual([{ status: "fulfilled", value: { userVerified: true } }]);
    for (const r of results.filter((r) => r.status === "rejected")) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: "invalid_passkey" });
    }
  });
});
