// What a test reads back from storage to check what a request did: D1 rows and the Durable Object
// that holds one subject's state.
import { env } from "cloudflare:workers";

/** How many users rows hold `email` (0 before verification, never more than 1). */
export async function userRows(email: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM users WHERE email = ?").bind(email).first<{ n: number }>();
  return row!.n;
}

/** The ids of the users rows holding `email`. */
export async function usersFor(email: string): Promise<{ id: string }[]> {
  const { results } = await env.DB.prepare("SELECT id FROM users WHERE email = ?").bind(email).all<{ id: string }>();
  return results;
}

/** How many users rows hold the number `phone`, proved or not. */
export async function usersWithPhone(phone: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM users WHERE phone = ?").bind(phone).first<{ n: number }>();
  return row!.n;
}

/** The phone number of the user holding `email`, and whether it was proved (1) or only typed (0). */
export async function phoneOf(email: string) {
  return env.DB.prepare("SELECT phone, is_phone_verified AS verified FROM users WHERE email = ?").bind(email).first<{ phone: string | null; verified: number }>();
}

/** The SubjectStore named `name` (`user:<id>`, `email:<address>`, …). */
export function subjectStub(name: string) {
  return env.SUBJECTS.get(env.SUBJECTS.idFromName(name));
}

/** The SubjectStore of an address: codes, login throttle. */
export const emailSubject = (email: string) => subjectStub(`email:${email}`);

/** The SubjectStore of a user: sessions, refresh rotation, upload slot. */
export const userSubject = (userId: string) => subjectStub(`user:${userId}`);
