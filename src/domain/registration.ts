import { AppError } from "../http/errors";
import { uniqueViolation } from "../storage/db";
import { kvKeys, kvTtl } from "../storage/kv-keys";
import { findUserByEmail, findUserByPhone, findUserByUsername, insertUser, type User } from "../storage/users";
import { hmacHex, randomDigits, randomToken, sha256Hex } from "./crypto";
import { resendCooldownName } from "../durable/user-guard";
import { emailGuard, type Deps, type RequestMeta } from "./deps";
import { deliverCode, deliverCodeInBackground } from "./code-delivery";
import { COUNTERS, counter, enforceIpLimit, enforceLimit } from "./limits";
import { assertAcceptablePassword } from "./password-policy";
import { hashPassword } from "./passwords";
import { signIn, type Device } from "./session-tokens";

// A sign-up is a pending registration held by the email's Durable Object (no user row) until the
// address is proved by the 6-digit code or the link. The DO makes the code single-use, counts
// misses atomically and lets a new registration replace the old one (whose code then stops working).

const PURPOSE = "register";

// The last sign-up for an address wins (its password is the one the account gets), so the owner is
// told when a new sign-up replaced an earlier one.
const REPLACED_NOTE =
  " This sign-up replaced an earlier one for this address: if you did not just sign up, do not use this code.";

type Pending = {
  email: string;
  passwordHash: string;
  fullName: string;
  username: string | null;
  phone: string | null;
  role: "CUSTOMER" | "PROVIDER";
};

export type RegisterInput = Omit<Pending, "passwordHash"> & { password: string };

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Codes are stored as HMAC(server secret, purpose, subject, code): useless without the secret. */
export function codeHmac(deps: Deps, purpose: string, subject: string, code: string): Promise<string> {
  return hmacHex(deps.config.codeSecret, `${purpose}\u0000${subject}\u0000${code}`);
}

async function issueCode(deps: Deps, email: string, now: number) {
  const code = randomDigits(6);
  const link = randomToken(32);
  const [hmac, linkHash] = await Promise.all([codeHmac(deps, PURPOSE, email, code), sha256Hex(link)]);
  const { config } = deps;
  const send = async (note = "") => {
    await deps.kv.put(kvKeys.verifyLink(linkHash), email, { expirationTtl: kvTtl(config.pendingTtl) });
    const url = `${config.publicBaseUrl}/api/v1/auth/verify?token=${encodeURIComponent(link)}`;
    await deps.mailer.send({
      to: email,
      subject: "Verify your email address",
      text: `Your verification code is ${code}. It expires in ${Math.round(config.emailCodeTtl / 60)} minutes. Or open this link: ${url}${note}`,
    });
  };
  return {
    hmac,
    linkHash,
    codeTtlMs: config.emailCodeTtl * 1000,
    linkTtlMs: config.pendingTtl * 1000,
    send,
  };
}

export async function register(deps: Deps, input: RegisterInput, meta: RequestMeta, now: number): Promise<string> {
  const email = normalizeEmail(input.email);
  const { config } = deps;
  await enforceIpLimit(deps, meta.ip, COUNTERS.register, config.limits.registerIp, now);
  const [existing, usernameOwner, phoneOwner, passwordHash] = await Promise.all([
    findUserByEmail(deps.db, email),
    input.username ? findUserByUsername(deps.db, input.username) : undefined,
    input.phone ? findUserByPhone(deps.db, input.phone) : undefined,
    assertAcceptablePassword(config, input.password, { email }).then(() => hashPassword(input.password)),
  ]);
  if (existing) throw new AppError("email_taken");
  if (usernameOwner) throw new AppError("username_taken");
  if (phoneOwner) throw new AppError("phone_taken");
  const pending: Pending = {
    email,
    passwordHash,
    fullName: input.fullName,
    username: input.username,
    phone: input.phone,
    role: input.role,
  };
  const guard = emailGuard(deps, email);
  const issued = await issueCode(deps, email, now);
  const put = await guard.putCode({
    purpose: PURPOSE,
    codeHmac: issued.hmac,
    linkHash: issued.linkHash,
    payload: JSON.stringify(pending),
    now,
    codeTtlMs: issued.codeTtlMs,
    linkTtlMs: issued.linkTtlMs,
    recordTtlMs: config.pendingTtl * 1000,
    cooldownMs: config.resendCooldown * 1000,
    sendLimit: counter(COUNTERS.emailSends, config.limits.emailSendsPerAddress),
  });
  if (!put.ok) throw new AppError("rate_limited", { retryAfter: put.retryAfterMs / 1000 });
  await deliverCode(guard, { purpose: PURPOSE, counter: COUNTERS.emailSends, dropRecord: true }, () =>
    issued.send(put.replaced ? REPLACED_NOTE : ""),
  );
  deps.audit({ action: "registration.started", details: { email, role: input.role, replaced: put.replaced } });
  return email;
}

/** Same work and the same answer whether or not a registration is pending (no enumeration). */
export async function resendVerification(deps: Deps, rawEmail: string, meta: RequestMeta, now: number): Promise<string> {
  const email = normalizeEmail(rawEmail);
  const { config } = deps;
  await enforceIpLimit(deps, meta.ip, COUNTERS.emailSends, config.limits.emailSendsIp, now);
  const guard = emailGuard(deps, email);
  const cooldown = await guard.claimCooldown({ name: resendCooldownName(PURPOSE), now, ms: config.resendCooldown * 1000 });
  if (!cooldown.ok) throw new AppError("rate_limited", { retryAfter: cooldown.retryAfterMs / 1000 });
  await enforceLimit(guard, COUNTERS.emailSends, config.limits.emailSendsPerAddress, now);
  const issued = await issueCode(deps, email, now);
  const renewed = await guard.renewCode({
    purpose: PURPOSE,
    codeHmac: issued.hmac,
    linkHash: issued.linkHash,
    now,
    codeTtlMs: issued.codeTtlMs,
    linkTtlMs: issued.linkTtlMs,
  });
  if (renewed) {
    deliverCodeInBackground(deps.defer, guard, { purpose: PURPOSE, counter: COUNTERS.emailSends, dropRecord: false }, () =>
      issued.send(),
    );
  }
  return email;
}

export async function verifyEmailCode(
  deps: Deps,
  input: { email: string; code: string; device: Device },
  meta: RequestMeta,
  now: number,
) {
  const email = normalizeEmail(input.email);
  if (await findUserByEmail(deps.db, email)) throw new AppError("already_verified");
  const result = await emailGuard(deps, email).verifyCode({
    purpose: PURPOSE,
    codeHmac: await codeHmac(deps, PURPOSE, email, input.code),
    now,
    maxAttempts: deps.config.codeMaxAttempts,
  });
  if (!result.ok) {
    if (result.reason === "exhausted") throw new AppError("too_many_attempts", { retryAfter: result.retryAfterMs / 1000 });
    throw new AppError("invalid_code");
  }
  const user = await createVerifiedUser(deps, JSON.parse(result.payload) as Pending, now, "code");
  return signIn(deps, user, input.device, meta, now, "email_code");
}

export async function verifyEmailLink(deps: Deps, token: string, now: number): Promise<User> {
  const linkHash = await sha256Hex(token);
  const email = await deps.kv.get(kvKeys.verifyLink(linkHash));
  if (!email) throw new AppError("invalid_token");
  if (await findUserByEmail(deps.db, email)) throw new AppError("already_verified");
  const result = await emailGuard(deps, email).verifyLink({ purpose: PURPOSE, linkHash, now });
  if (!result.ok) throw new AppError("invalid_token");
  deps.defer(() => deps.kv.delete(kvKeys.verifyLink(linkHash)));
  return createVerifiedUser(deps, JSON.parse(result.payload) as Pending, now, "link");
}

async function createVerifiedUser(deps: Deps, pending: Pending, now: number, via: "code" | "link"): Promise<User> {
  const user = await insertVerifiedUser(deps, pending, now);
  deps.audit({ action: "email.verified", actorId: user.id, details: { email: user.email, via } });
  deps.audit({ action: "user.created", actorId: user.id, details: { method: "email", role: user.role } });
  return user;
}

async function insertVerifiedUser(deps: Deps, pending: Pending, now: number): Promise<User> {
  const insert = (phone: string | null) =>
    insertUser(
      deps.db,
      {
        id: crypto.randomUUID(),
        email: pending.email,
        username: pending.username,
        phone,
        fullName: pending.fullName,
        role: pending.role,
        passwordHash: pending.passwordHash,
        isEmailVerified: true,
      },
      new Date(now),
    );
  try {
    return await insert(pending.phone);
  } catch (err) {
    const column = uniqueViolation(err);
    if (column === "email") throw new AppError("already_verified");
    if (column === "username") throw new AppError("username_taken");
    // The unproved number given at sign-up was proved by its owner (SMS) meanwhile: the owner keeps
    // it, and this account is created without it rather than failing the verification.
    if (column === "phone") return insert(null);
    throw err;
  }
}
