// Invariant: a user cannot remove their last way to sign in. Ways in: a password with a verified
// email, a verified phone number, a Google identity, a passkey. A user whose only ways in are
// passkeys keeps at least one, also when parallel requests try to delete them all.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { authed, customerUser, expectProblem, outcome, registerPasskey, tally, type Json } from "../helpers";

/** A user whose password is gone (as if they had signed up with a passkey), with `n` passkeys. */
async function passkeyOnlyUser(n: number) {
  const { token, id } = await customerUser();
  const passkeys: Json[] = [];
  for (let i = 0; i < n; i++) passkeys.push((await registerPasskey(token)).passkey);
  await env.DB.prepare("UPDATE users SET password_hash = NULL WHERE id = ?").bind(id).run();
  return { token, id, passkeys };
}

const remove = (token: string, id: string) => authed(token, `/users/me/passkeys/${id}`, { method: "DELETE" });

describe("the last way in", () => {
  it("a user with a password and a verified email may remove their only passkey", async () => {
    const { token } = await customerUser();
    const { passkey } = await registerPasskey(token);
    expect((await remove(token, passkey.id)).status).toBe(204);
  });

  it("a passkey-only user may remove one of two passkeys, never the last", async () => {
    const { token, passkeys } = await passkeyOnlyUser(2);
    expect((await remove(token, passkeys[0]!.id)).status).toBe(204);
    await expectProblem(await remove(token, passkeys[1]!.id), 409, "last_sign_in_method");
    expect((await (await authed(token, "/users/me/passkeys")).json<Json>()).passkeys).toHaveLength(1);
  });

  it("a verified phone number or a Google identity is a way in too", async () => {
    const withPhone = await passkeyOnlyUser(1);
    await env.DB.prepare("UPDATE users SET phone = ?, is_phone_verified = 1 WHERE id = ?")
      .bind(`+8801${Math.floor(Math.random() * 1e9).toString().padStart(9, "0")}`, withPhone.id)
      .run();
    expect((await remove(withPhone.token, withPhone.passkeys[0]!.id)).status).toBe(204);

    const withGoogle = await passkeyOnlyUser(1);
    await env.DB.prepare("INSERT INTO identities (provider, provider_user_id, user_id, email, created_at) VALUES ('google', ?, ?, NULL, ?)")
      .bind(crypto.randomUUID(), withGoogle.id, Date.now())
      .run();
    expect((await remove(withGoogle.token, withGoogle.passkeys[0]!.id)).status).toBe(204);
  });

  it("an unverified email with a password is not a way in", async () => {
    const { token, id, passkeys } = await passkeyOnlyUser(1);
    await env.DB.prepare("UPDATE users SET password_hash = 'x', is_email_verified = 0 WHERE id = ?").bind(id).run();
    await expectProblem(await remove(token, passkeys[0]!.id), 409, "last_sign_in_method");
  });

  it("parallel deletions of a passkey-only user's three passkeys leave one", async () => {
    const { token, id, passkeys } = await passkeyOnlyUser(3);
    const answers = await Promise.all(passkeys.flatMap((p) => [remove(token, p.id), remove(token, p.id)]));
    const counts = tally(await Promise.all(answers.map((r) => (r.status === 204 ? { status: 204, code: undefined } : outcome(r)))));
    expect(counts["204 ok"]).toBe(2);
    const left = await env.DB.prepare("SELECT COUNT(*) AS n FROM passkeys WHERE user_id = ?").bind(id).first<{ n: number }>();
    expect(left?.n).toBe(1);
  });
});
