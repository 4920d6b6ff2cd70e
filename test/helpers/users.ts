// Every test makes its own users: unique addresses, numbers and client addresses, signed up and
// verified through the routes, and made ADMIN the way an operator does it (straight in D1).
import { env } from "cloudflare:workers";
import { isValidPhoneNumber } from "libphonenumber-js/mobile";
import { expect } from "vitest";
import { post, type Json } from "./http";
import { enrolTotp } from "./mfa";
import { lastCode, lastSmsCode } from "./outbox";

export const PASSWORD = "correct horse battery staple";

export function uniqueEmail(tag = "user"): string {
  return `${tag}-${crypto.randomUUID().slice(0, 12)}@example.com`;
}

/** A username no other test uses: `prefix` and 8 random hex digits. */
export function uniqueUsername(prefix = "Name_"): string {
  return `${prefix}${crypto.randomUUID().slice(0, 8)}`;
}

const usedPhones = new Set<string>();

/** A Bangladeshi mobile number in E.164 (`+88017` and 8 random digits) that no other test uses. */
export function uniquePhone(): string {
  for (;;) {
    const digits = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b % 10).join("");
    const phone = `+88017${digits}`;
    if (!usedPhones.has(phone) && isValidPhoneNumber(phone)) {
      usedPhones.add(phone);
      return phone;
    }
  }
}

const TEST_NETS = ["192.0.2", "198.51.100", "203.0.113"];
const usedIps = new Set<string>();

/**
 * An IPv4 address of the documentation ranges (RFC 5737) that no other test of this file was
 * given, so no other test's requests count against its per-IP limits.
 */
export function uniqueIp(): string {
  for (let i = 0; i < 100_000; i++) {
    const [net, host] = crypto.getRandomValues(new Uint8Array(2));
    const ip = `${TEST_NETS[net! % TEST_NETS.length]}.${1 + (host! % 254)}`;
    if (!usedIps.has(ip)) {
      usedIps.add(ip);
      return ip;
    }
  }
  throw new Error("every documentation address is taken");
}

export async function registerUser(overrides: Json = {}): Promise<{ email: string; password: string }> {
  const email = (overrides.email as string) ?? uniqueEmail();
  const password = (overrides.password as string) ?? PASSWORD;
  const res = await post("/auth/register", { email, password, full_name: "Test User", ...overrides });
  expect(res.status).toBe(202);
  return { email, password };
}

/** A verified user signed in on `device_id`; returns the token response. */
export async function signedInUser(overrides: Json = {}, deviceId = "device-1") {
  const { email, password } = await registerUser(overrides);
  const res = await post("/auth/verify-email", { email, code: lastCode(email), device_id: deviceId });
  expect(res.status).toBe(200);
  const tokens = (await res.json()) as Json;
  return { email, password, tokens, deviceId };
}

export async function login(email: string, password: string, deviceId: string) {
  const res = await post("/auth/login", { email, password, device_id: deviceId });
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

/** Makes the user ADMIN the way an operator would: the role written into D1 (read on every request). */
export async function makeAdmin(userId: string): Promise<void> {
  await env.DB.prepare("UPDATE users SET role = 'ADMIN' WHERE id = ?").bind(userId).run();
}

/**
 * A signed-in user made ADMIN straight in D1, with an authenticator app enrolled (MFA_REQUIRED_ROLES
 * holds ADMIN), its id, access token and TOTP secret at hand.
 */
export async function adminUser(overrides: Json = {}, deviceId = "admin-device") {
  const user = await signedInUser(overrides, deviceId);
  const token = user.tokens.access_token as string;
  const { secret } = await enrolTotp(token);
  await makeAdmin(user.tokens.user.id);
  return { ...user, id: user.tokens.user.id as string, token, totpSecret: secret };
}

export async function customerUser() {
  const user = await signedInUser();
  return { ...user, id: user.tokens.user.id as string, token: user.tokens.access_token as string };
}

export async function providerUser() {
  const user = await signedInUser({ role: "PROVIDER" });
  expect(user.tokens.user.role).toBe("PROVIDER");
  return { ...user, id: user.tokens.user.id as string, token: user.tokens.access_token as string };
}

/** POST /auth/phone/send-otp, which must succeed; returns its body. */
export async function sendOtp(phone: string): Promise<Json> {
  const res = await post("/auth/phone/send-otp", { phone });
  expect(res.status).toBe(200);
  return res.json<Json>();
}

/** Sends `phone` a code and signs in with it (on device `phone-app` unless `extra` names one): the answer is the test's to judge. */
export async function phoneSignIn(phone: string, extra: Json = {}): Promise<Response> {
  await sendOtp(phone);
  return post("/auth/phone/verify-otp", { phone, otp: lastSmsCode(phone), device_id: "phone-app", ...extra });
}
