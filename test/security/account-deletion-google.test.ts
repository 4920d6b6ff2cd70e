// Invariant: deleting an account made with Google erases the identity too: no row keeps the Google
// subject or email, and the same Google account signs up again as a new account.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { googleIdToken, newGoogleAccount, signInWithIdToken } from "../helpers/google-fake";
import { deleteMe, expectNothingHolds, expectRefreshRefused, type Json } from "../helpers";

describe("deleting a Google account", () => {
  it("erases the identity, and the Google account signs up again as a new account", async () => {
    const account = newGoogleAccount();
    const first = await signInWithIdToken(await googleIdToken(account));
    expect(first.status).toBe(200);
    const tokens = await first.json<Json>();
    const linked = await env.DB.prepare("SELECT COUNT(*) AS n FROM identities WHERE user_id = ?").bind(tokens.user.id).first<{ n: number }>();
    expect(linked!.n).toBe(1);

    expect((await deleteMe(tokens.access_token)).status).toBe(204);
    await expectNothingHolds([account.email, account.sub], [`user:${tokens.user.id}`, `email:${account.email}`]);
    await expectRefreshRefused(tokens.refresh_token, "google-device");

    const again = await signInWithIdToken(await googleIdToken(account));
    expect(again.status).toBe(200);
    expect((await again.json<Json>()).user.id).not.toBe(tokens.user.id);
  });
});
