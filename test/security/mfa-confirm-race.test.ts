// Invariant: confirming an enrolment is done once: of parallel confirmations with a right code, one
// answers the recovery codes and the others invalid_code, and the codes shown are the ones that work.
import { describe, expect, it } from "vitest";
import { authed, expectProblem, mfaTokenOf, post, signedInUser, totpCode, verifyMfa } from "../helpers";

describe("TOTP confirmation race", () => {
  it("three parallel confirmations: one set of codes, and it is the set that signs in", async () => {
    const { email, password, tokens } = await signedInUser({}, "race-device");
    const token = tokens.access_token as string;
    const { secret } = await (await authed(token, "/users/me/mfa/totp", { method: "POST" })).json<{ secret: string }>();
    const codes = [totpCode(secret, -1), totpCode(secret, 0), totpCode(secret, 1)];
    const answers = await Promise.all(
      codes.map((code) => post("/users/me/mfa/totp/confirm", { code }, { authorization: `Bearer ${token}` })),
    );
    const ok = answers.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    for (const r of answers.filter((a) => a.status !== 200)) await expectProblem(r, 400, "invalid_code");
    const { recovery_codes } = await ok[0]!.json<{ recovery_codes: string[] }>();
    const challenge = await mfaTokenOf(await post("/auth/login", { email, password, device_id: "race-device" }));
    expect((await verifyMfa(challenge, "recovery_code", recovery_codes[0]!)).status).toBe(200);
  });
});
