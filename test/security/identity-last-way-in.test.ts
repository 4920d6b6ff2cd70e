// Invariant: no removal leaves a user without a way to sign in (a password with a verified email, a
// verified phone number, a Google identity, a passkey), whichever route removes it (DELETE
// /users/me/identities/{type} or DELETE /users/me/passkeys/{id}): both use one definition of
// "another way in", checked inside the removing statement. Parallel removals of a user's last two
// ways in let exactly one through, also in a burst and across the two routes.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { googleAccount, passkeyAccount, passwordAccount, phoneAccount, provePhone, typesOf, unlink, withGoogle } from "../helpers/identities";
import { authed, expectProblem, outcome, registerPasskey, tally } from "../helpers";

const WAYS_IN = ["password", "phone", "google", "passkey"];
const deletePasskey = (token: string, id: string) => authed(token, `/users/me/passkeys/${id}`, { method: "DELETE" });

async function counted(res: Response) {
  return res.status === 204 ? { status: 204, code: undefined } : outcome(res);
}

/** The ways in the user keeps, as the list shows them (the emailed code is not one of them here). */
async function waysIn(token: string) {
  return (await typesOf(token)).filter((t) => WAYS_IN.includes(t));
}

describe("the last way in cannot be removed", () => {
  it("password-only account: removing the password is refused", async () => {
    const { token } = await passwordAccount();
    await expectProblem(await unlink(token, "password"), 409, "last_sign_in_method");
    expect(await waysIn(token)).toEqual(["password"]);
  });

  it("phone-only account: removing the phone is refused and the number stays", async () => {
    const { id, token, phone } = await phoneAccount();
    await expectProblem(await unlink(token, "phone"), 409, "last_sign_in_method");
    const row = await env.DB.prepare("SELECT phone, is_phone_verified FROM users WHERE id = ?").bind(id).first();
    expect(row).toEqual({ phone, is_phone_verified: 1 });
  });

  it("google-only account: unlinking Google is refused (a verified email without a password is no way in)", async () => {
    const { token } = await googleAccount();
    await expectProblem(await unlink(token, "google"), 409, "last_sign_in_method");
    expect(await waysIn(token)).toEqual(["google"]);
  });

  it("passkey-only account: the last passkey cannot be deleted, and there is no other type to unlink", async () => {
    const { token, passkeys } = await passkeyAccount(1);
    await expectProblem(await deletePasskey(token, passkeys[0]!.id), 409, "last_sign_in_method");
    for (const type of ["password", "phone", "google"]) await expectProblem(await unlink(token, type), 404, "identity_not_found");
    expect(await waysIn(token)).toEqual(["passkey"]);
  });

  it("a Google identity keeps a passkey-only user's last passkey deletable, and then is the last itself", async () => {
    const { token, passkeys } = await passkeyAccount(1);
    await withGoogle(token);
    expect((await deletePasskey(token, passkeys[0]!.id)).status).toBe(204);
    await expectProblem(await unlink(token, "google"), 409, "last_sign_in_method");
  });

  it("a password whose email is not verified does not count as a way in", async () => {
    const { id, token } = await googleAccount();
    await env.DB.prepare("UPDATE users SET password_hash = 'x', is_email_verified = 0 WHERE id = ?").bind(id).run();
    await expectProblem(await unlink(token, "google"), 409, "last_sign_in_method");
  });
});

describe("parallel removals of the last two ways in: exactly one succeeds", () => {
  const burst = async (requests: (() => Promise<Response>)[]) => tally(await Promise.all((await Promise.all(requests.map((r) => r()))).map(counted)));

  it("phone and Google (a phone account that linked Google), eight requests at once", async () => {
    const { token } = await phoneAccount();
    await withGoogle(token);
    const counts = await burst(Array.from({ length: 8 }, (_, i) => () => unlink(token, i % 2 ? "google" : "phone")));
    expect(counts["204 ok"]).toBe(1);
    expect((counts["409 last_sign_in_method"] ?? 0) + (counts["404 identity_not_found"] ?? 0)).toBe(7);
    expect(await waysIn(token)).toHaveLength(1);
  });

  it("password and phone", async () => {
    const { id, token } = await passwordAccount();
    await provePhone(id);
    const counts = await burst([() => unlink(token, "password"), () => unlink(token, "phone"), () => unlink(token, "password"), () => unlink(token, "phone")]);
    expect(counts["204 ok"]).toBe(1);
    expect(await waysIn(token)).toHaveLength(1);
  });

  it("a passkey (its own route) and Google (the identities route)", async () => {
    const { token, passkeys } = await passkeyAccount(1);
    await withGoogle(token);
    const id = passkeys[0]!.id as string;
    const counts = await burst([() => deletePasskey(token, id), () => unlink(token, "google"), () => deletePasskey(token, id), () => unlink(token, "google")]);
    expect(counts["204 ok"]).toBe(1);
    expect(await waysIn(token)).toHaveLength(1);
  });

  it("a password and a passkey", async () => {
    const { token } = await passwordAccount();
    const { passkey } = await registerPasskey(token);
    const counts = await burst([() => unlink(token, "password"), () => deletePasskey(token, passkey.id), () => unlink(token, "password"), () => deletePasskey(token, passkey.id)]);
    expect(counts["204 ok"]).toBe(1);
    expect(await waysIn(token)).toHaveLength(1);
  });
});
