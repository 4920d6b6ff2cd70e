import { AppError } from "../errors";
import { uniqueViolation } from "../storage/db";
import { findUserByEmail, findUserByUsername, insertUser, type User } from "../storage/users";
import { hmacHex, randomDigits, randomToken, sha256Hex } from "./crypto";
import { resendCooldownName } from "../durable/subject-store";
import { emailSubject, type Deps, type RequestMeta } from "./deps";
import { failedCheck } from "./code-check";
import { deliverCode, deliverCodeInBackground } from "./code-delivery";
import { COUNTERS, counter, enforceIpLimit, enforceLimit } from "./limits";
import { assertAcceptablePassword } from "./password-policy";
import type { SignUpRole } from "./roles";
import { hashPassword, verifyPassword } from "./passwords";
import type { Device } from "./session-tokens";
import { completeSignIn } from "./sign-in";

// A sign-up is a pending registration held by the email's Durable Object (no user row) until the
// address is proved by the 6-digit code or the link. The DO makes the code single-use, counts
// misses atomically and lets a new registration replace the old one (whose code then stops working).

const PURPOSE = "register";

// The last sign-up for an address wins (its password is the one the account gets), so the owner is
// told when a new sign-up replaced an earlier one.
const REPLACED_NOTE =
  " This sign-up replaced an earlier one for this address: if you did not just sign up, do not use this code.";

// Opening the link alone activates nothing: the sign-up's password is asked too (pre-account hijacking).
const NOT_YOU =
  "If you did not sign up, ignore this email and share this code with no one: the link works only with the password chosen at sign-up, so opening it activates nothing.";

// A right code or link holds the pending registration while the user row is written; if that
// fails for a reason that is not the code's, the claim is released and the code works again.
const CLAIM_MS = 30_000;

// Someone signing up with an address that has an account: its owner hears of it at most hourly.
const SIGNUP_NOTICE_COOLDOWN_MS = 3600_000;

type Pending = {
  email: string;
  passwordHash: string;
  fullName: string;
  username: string | null;
  phone: string | null;
  role: SignUpRole;
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
    await deps.links.put("verify", linkHash, email, config.pendingTtl);
    const url = `${config.frontendUrl}/verify-email?token=${encodeURIComponent(link)}`;
    await deps.mailer.send({
      to: email,
      subject: "Verify your email address",
      text:
        `Your verification code is ${code}. It expires in ${Math.round(config.emailCodeTtl / 60)} minutes. ` +
        `Or open this link and enter the password you chose at sign-up: ${url}${note} ${NOT_YOU}`,
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
  // The phone number is kept unproved and never checked here: refusing it would tell anyone which
  // numbers have accounts. It is attached at verification only if no account holds it by then.
  const [existing, usernameOwner, passwordHash] = await Promise.all([
    findUserByEmail(deps.db, email),
    input.username ? findUserByUsername(deps.db, input.username) : undefined,
    assertAcceptablePassword(deps, input.password, { email }).then(() => hashPassword(input.password)),
  ]);
  if (existing) {
    tellOwnerOfSignUp(deps, email, now);
    throw new AppError("email_taken");
  }
  if (usernameOwner) throw new AppError("username_taken");
  const pending: Pending = {
    email,
    passwordHash,
    fullName: input.fullName,
    username: input.username,
    phone: input.phone,
    role: input.role,
  };
  const subject = emailSubject(deps, email);
  const issued = await issueCode(deps, email, now);
  const put = await subject.putCode({
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
  await deliverCode(subject, { purpose: PURPOSE, counter: COUNTERS.emailSends, dropRecord: true }, () =>
    issued.send(put.replaced ? REPLACED_NOTE : ""),
  );
  deps.audit({ action: "registration.started", details: { email, role: input.role, replaced: put.replaced } });
  return email;
}

/** The owner of an address someone tried to sign up with is told, at most hourly, after the response. */
function tellOwnerOfSignUp(deps: Deps, email: string, now: number): void {
  const subject = emailSubject(deps, email);
  const notice = async () => {
    const claimed = await subject.claimCooldown({ name: "notice:signup", now, ms: SIGNUP_NOTICE_COOLDOWN_MS });
    if (!claimed.ok) return;
    await deps.mailer.send({
      to: email,
      subject: "Someone tried to sign up with your email address",
      text:
        "Someone tried to create an account with this email address, which already has one. " +
        "Nothing was changed. If it was you, sign in or reset your password; if not, you can ignore this email.",
    });
  };
  deps.defer(notice);
}

/** Same work and the same answer whether or not a registration is pending (no enumeration). */
export async function resendVerification(deps: Deps, rawEmail: string, meta: RequestMeta, now: number): Promise<string> {
  const email = normalizeEmail(rawEmail);
  const { config } = deps;
  await enforceIpLimit(deps, meta.ip, COUNTERS.emailSends, config.limits.emailSendsIp, now);
  const subject = emailSubject(deps, email);
  const cooldown = await subject.claimCooldown({ name: resendCooldownName(PURPOSE), now, ms: config.resendCooldown * 1000 });
  if (!cooldown.ok) throw new AppError("rate_limited", { retryAfter: cooldown.retryAfterMs / 1000 });
  await enforceLimit(subject, COUNTERS.emailSends, config.limits.emailSendsPerAddress, now);
  const issued = await issueCode(deps, email, now);
  const renewed = await subject.renewCode({
    purpose: PURPOSE,
    codeHmac: issued.hmac,
    linkHash: issued.linkHash,
    now,
    codeTtlMs: issued.codeTtlMs,
    linkTtlMs: issued.linkTtlMs,
  });
  if (renewed) {
    deliverCodeInBackground(deps.defer, subject, { purpose: PURPOSE, counter: COUNTERS.emailSends, dropRecord: false }, () =>
      issued.send(),
    );
  }
  return email;
}

/** A code check that answers the same for an unknown address and one that has an account (no oracle). */
export async function verifyEmailCode(
  deps: Deps,
  input: { email: string; code: string; device: Device },
  meta: RequestMeta,
  now: number,
) {
  const email = normalizeEmail(input.email);
  await enforceIpLimit(deps, meta.ip, COUNTERS.codeVerify, deps.config.limits.codeVerifyIp, now);
  const subject = emailSubject(deps, email);
  const result = await subject.verifyCode({
    purpose: PURPOSE,
    codeHmac: await codeHmac(deps, PURPOSE, email, input.code),
    now,
    maxAttempts: deps.config.codeMaxAttempts,
    claimMs: CLAIM_MS,
  });
  if (!result.ok) throw failedCheck(result, "invalid_code");
  const created = await createFromClaim(deps, subject, result.payload, now, "code");
  if (!created) throw new AppError("invalid_code");
  return signInCreated(deps, created, input.device, meta, now);
}

/** What the emailed link stands for, changing nothing: mail scanners and previews open links. */
export async function lookUpVerificationLink(deps: Deps, token: string, now: number): Promise<{ email: string; expiresAt: Date }> {
  const linkHash = await sha256Hex(token);
  const email = await deps.links.get("verify", linkHash);
  if (!email) throw new AppError("invalid_token");
  const found = await emailSubject(deps, email).lookupLink({ purpose: PURPOSE, linkHash, now });
  if (!found.ok) throw new AppError("invalid_token");
  return { email, expiresAt: new Date(found.linkExpiresAt) };
}

/**
 * Activates a pending registration from its link and the password chosen at sign-up, so whoever
 * registered someone else's address cannot have the owner's click (or mail scanner) activate it.
 * Every try counts against the code's attempt budget, reserved before the password is checked.
 */
export async function verifyEmailLink(
  deps: Deps,
  input: { token: string; password: string; device: Device },
  meta: RequestMeta,
  now: number,
) {
  const { config } = deps;
  await enforceIpLimit(deps, meta.ip, COUNTERS.codeVerify, config.limits.codeVerifyIp, now);
  const linkHash = await sha256Hex(input.token);
  const email = await deps.links.get("verify", linkHash);
  if (!email) throw new AppError("invalid_token");
  const subject = emailSubject(deps, email);
  const attempt = await subject.beginLinkAttempt({ purpose: PURPOSE, linkHash, now, maxAttempts: config.codeMaxAttempts });
  if (!attempt.ok) throw failedCheck(attempt, "invalid_token");
  const pending = JSON.parse(attempt.payload) as Pending;
  if (!(await verifyPassword(pending.passwordHash, input.password))) {
    deps.audit({ action: "email.verify_failed", details: { email, via: "link", reason: "wrong_password" } });
    throw new AppError("invalid_credentials");
  }
  const claimed = await subject.verifyLink({ purpose: PURPOSE, linkHash, now, claimMs: CLAIM_MS });
  if (!claimed.ok) throw new AppError("invalid_token");
  const created = await createFromClaim(deps, subject, claimed.payload, now, "link");
  if (!created) throw new AppError("invalid_token");
  deps.defer(() => deps.links.delete("verify", linkHash));
  return signInCreated(deps, created, input.device, meta, now);
}

type Created = { user: User; notices: Notice[] };

/** Something the user should know about an otherwise successful sign-up. */
export type Notice = { code: "username_taken"; detail: string };

async function signInCreated(deps: Deps, created: Created, device: Device, meta: RequestMeta, now: number) {
  const result = await completeSignIn(deps, created.user, { method: "email_code", device, meta, now });
  return created.notices.length > 0 ? { ...result, notices: created.notices } : result;
}

/**
 * Creates the user from a claimed pending registration and settles the claim: consumed when the
 * user exists (or the address got an account meanwhile: null, nothing to create), released when
 * the write failed for another reason, so the code still works.
 */
async function createFromClaim(
  deps: Deps,
  subject: ReturnType<typeof emailSubject>,
  payload: string,
  now: number,
  via: "code" | "link",
): Promise<Created | null> {
  let created: Created | null;
  try {
    created = await insertVerifiedUser(deps, JSON.parse(payload) as Pending, now);
  } catch (err) {
    await subject.settleClaim({ purpose: PURPOSE, consumed: false });
    throw err;
  }
  await subject.settleClaim({ purpose: PURPOSE, consumed: true });
  if (created) {
    const { user } = created;
    deps.audit({ action: "email.verified", actorId: user.id, details: { email: user.email, via } });
    deps.audit({ action: "user.created", actorId: user.id, details: { method: "email", role: user.role } });
  }
  return created;
}

/**
 * The user row, or null when the address has an account already (made meanwhile by a Google
 * sign-in). A username or phone number taken meanwhile is left off rather than failing a right
 * code: the phone silently (it was never proved), the username with a notice.
 */
async function insertVerifiedUser(deps: Deps, pending: Pending, now: number): Promise<Created | null> {
  const notices: Notice[] = [];
  let { username, phone } = pending;
  for (;;) {
    try {
      const user = await insertUser(
        deps.db,
        {
          id: crypto.randomUUID(),
          email: pending.email,
          username,
          phone,
          fullName: pending.fullName,
          role: pending.role,
          passwordHash: pending.passwordHash,
          isEmailVerified: true,
        },
        new Date(now),
      );
      return { user, notices };
    } catch (err) {
      const column = uniqueViolation(err);
      if (column === "email") return null;
      if (column === "username_key" && username !== null) {
        notices.push({
          code: "username_taken",
          detail: `The username "${username}" was taken before you verified your email; choose another in your profile.`,
        });
        username = null;
      } else if (column === "phone" && phone !== null) {
        phone = null;
      } else {
        throw err;
      }
    }
  }
}
