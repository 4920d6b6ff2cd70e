// Account changes from the test's side: the routes under /users/me for email, phone and a first
// password, the message that carries each code, and the audit rows they write.
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { post, type Json } from "./http";
import { messagesTo } from "./outbox";
import { pollUntil } from "./time";
import { phoneSignIn, uniquePhone } from "./users";

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export const requestEmailChange = (token: string, newEmail: string) => post("/users/me/email", { new_email: newEmail }, bearer(token));
export const confirmEmailChange = (token: string, code: string) => post("/users/me/email/confirm", { code }, bearer(token));
export const requestPhoneChange = (token: string, phone: string) => post("/users/me/phone", { phone }, bearer(token));
export const confirmPhoneChange = (token: string, otp: string) => post("/users/me/phone/confirm", { otp }, bearer(token));
export const setFirstPassword = (token: string, newPassword: string) => post("/users/me/password", { new_password: newPassword }, bearer(token));

export const EMAIL_CHANGE_SUBJECT = "Confirm your new email address";
export const EMAIL_CHANGED_NOTICE = "Your sign-in email address was changed";

/** The code in the last email-change message to `to` (other codes may reach the same inbox). */
export function emailChangeCode(to: string): string {
  const msg = messagesTo(to).filter((m) => m.subject === EMAIL_CHANGE_SUBJECT).at(-1);
  const code = msg && /\b(\d{6})\b/.exec(msg.text)?.[1];
  if (!code) throw new Error(`no email-change code delivered to ${to}`);
  return code;
}

/** The code in the last sign-up verification message to `to`. */
export function signUpCode(to: string): string {
  const msg = messagesTo(to).filter((m) => m.subject === "Verify your email address").at(-1);
  const code = msg && /\b(\d{6})\b/.exec(msg.text)?.[1];
  if (!code) throw new Error(`no sign-up code delivered to ${to}`);
  return code;
}

/** A user signed in by phone (optionally with an unverified email given at sign-up). */
export async function phoneUser(extra: Json = {}) {
  const phone = uniquePhone();
  const res = await phoneSignIn(phone, extra);
  expect(res.status).toBe(200);
  const tokens = await res.json<Json>();
  return { phone, tokens, id: tokens.user.id as string, token: tokens.access_token as string };
}

/** The details of each audit row with `action` by the user, oldest first, once `atLeast` are written. */
export async function auditDetailsOf(action: string, userId: string, atLeast = 1): Promise<Json[]> {
  const rows = await pollUntil(
    async () =>
      (
        await env.DB.prepare("SELECT details FROM audit_events WHERE action = ?1 AND actor_id = ?2 ORDER BY at, id")
          .bind(action, userId)
          .all<{ details: string | null }>()
      ).results,
    (r) => r.length >= atLeast,
  );
  return rows.map((r) => (r.details ? (JSON.parse(r.details) as Json) : {}));
}

/** How many accounts hold `email` as their address. */
export async function accountsWithEmail(email: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM users WHERE email = ?").bind(email).first<{ n: number }>();
  return row?.n ?? 0;
}
