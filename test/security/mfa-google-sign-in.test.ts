// Invariant: a Google sign-in (ID token, or the browser flow's exchange) of an account with an
// authenticator app answers the second-factor challenge, never tokens, like every other way in.
import { describe, expect, it } from "vitest";
import { browserSignIn, googleIdToken, newGoogleAccount, signInWithIdToken } from "../helpers/google-fake";
import { enrolTotp, mfaTokenOf, post, totpCode, verifyMfa, type Json } from "../helpers";

describe("Google sign-in with a second factor", () => {
  it("the ID-token sign-in and the browser exchange both answer the challenge; a TOTP code finishes it", async () => {
    const account = newGoogleAccount();
    const first = await signInWithIdToken(await googleIdToken(account));
    expect(first.status).toBe(200);
    const { secret } = await enrolTotp((await first.json<Json>()).access_token as string);

    const byIdToken = await mfaTokenOf(await signInWithIdToken(await googleIdToken(account)));
    const done = await verifyMfa(byIdToken, "totp", totpCode(secret, 1));
    expect(done.status).toBe(200);
    expect(await done.json<Json>()).toMatchObject({ user: { email: account.email } });

    const { exchangeCode } = await browserSignIn(account, "browser-mfa");
    const exchanged = await post("/auth/google/exchange", { code: exchangeCode, device_id: "browser-mfa" });
    await mfaTokenOf(exchanged);
  });
});
