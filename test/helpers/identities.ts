// Accounts of each kind for the identity tests (password, phone, Google, passkey), and the routes of
// /users/me/identities. Imported on its own, like the fake Google it loads (it replaces fetch).
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { googleIdToken, newGoogleAccount, signInWithIdToken, type GoogleAccount } from "./google-fake";
import { authed, post, type Json } from "./http";
import { registerPasskey } from "./passkeys";
import { customerUser, phoneSignIn, uniquePhone } from "./users";

export type Account = { id: string; token: string };

export const identities = async (token: string): Promise<Json[]> => {
  const res = await authed(token, "/users/me/identities");
  expect(res.status).toBe(200);
  return (await res.json<Json>()).identities as Json[];
};

export const typesOf = async (token: string) => (await identities(token)).map((i) => i.type as string);

export const unlink = (token: string, type: string) => authed(token, `/users/me/identities/${type}`, { method: "DELETE" });

export const linkGoogle = (token: string, idToken: string) =>
  post("/users/me/identities/google", { id_token: idToken }, { authorization: `Bearer ${token}` });

/** Signed up with an email and a password (verified): the password and the email code. */
export async function passwordAccount(): Promise<Account & { email: string; password: string }> {
  const user = await customerUser();
  return { id: user.id, token: user.token, email: user.email, password: user.password };
}

/** Signed up by phone: the proved number is the only way in. */
export async function phoneAccount(extra: Json = {}): Promise<Account & { phone: string }> {
  const phone = uniquePhone();
  const res = await phoneSignIn(phone, extra);
  expect(res.status).toBe(200);
  const tokens = await res.json<Json>();
  return { id: tokens.user.id, token: tokens.access_token, phone };
}

/** Signed up with Google: the Google identity (and, as for every verified email, the email code). */
export async function googleAccount(): Promise<Account & { google: GoogleAccount }> {
  const google = newGoogleAccount();
  const res = await signInWithIdToken(await googleIdToken(google));
  expect(res.status).toBe(200);
  const tokens = await res.json<Json>();
  return { id: tokens.user.id, token: tokens.access_token, google };
}

/** A user whose only ways in are `n` passkeys (the password cleared, as a passkey sign-up would have none). */
export async function passkeyAccount(n = 1): Promise<Account & { passkeys: Json[] }> {
  const { id, token } = await customerUser();
  const passkeys: Json[] = [];
  for (let i = 0; i < n; i++) passkeys.push((await registerPasskey(token)).passkey);
  await env.DB.prepare("UPDATE users SET password_hash = NULL WHERE id = ?").bind(id).run();
  return { id, token, passkeys };
}

/** Gives the user a proved phone number straight in D1; returns it. */
export async function provePhone(userId: string): Promise<string> {
  const phone = uniquePhone();
  await env.DB.prepare("UPDATE users SET phone = ?, is_phone_verified = 1 WHERE id = ?").bind(phone, userId).run();
  return phone;
}

/** Links a new Google account to the user through the route; returns the account. */
export async function withGoogle(token: string): Promise<GoogleAccount> {
  const google = newGoogleAccount();
  const res = await linkGoogle(token, await googleIdToken(google));
  expect(res.status).toBe(200);
  return google;
}
