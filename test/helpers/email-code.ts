// Passwordless sign-in by an emailed code, from the test's side. The code is stored and mailed after
// the answer (so that no address can be told from another), hence the wait for the message.
import { expect } from "vitest";
import { post, type Json } from "./http";
import { lastCode, messagesTo, waitForMessages } from "./outbox";

/** POST /auth/email/send-code, which must answer 202; for an address that gets a code, the code. */
export async function sendEmailCode(email: string, headers: Record<string, string> = {}): Promise<string> {
  const before = messagesTo(email).length;
  const res = await post("/auth/email/send-code", { email }, headers);
  expect(res.status).toBe(202);
  await waitForMessages(email, before + 1);
  return lastCode(email);
}

/** POST /auth/email/verify-code on device `email-code-device` unless `extra` names another: the answer is the test's to judge. */
export function verifyEmailCode(email: string, code: string, extra: Json = {}, headers: Record<string, string> = {}): Promise<Response> {
  return post("/auth/email/verify-code", { email, code, device_id: "email-code-device", ...extra }, headers);
}
