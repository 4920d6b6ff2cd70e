import { AppError } from "../errors";
import { findUserById } from "../storage/users";
import { failedCheck } from "./code-check";
import { claimEmailSend, deliverCodeInBackground } from "./code-delivery";
import { randomDigits } from "./crypto";
import { emailSubject, type Deps, type RequestMeta } from "./deps";
import { COUNTERS, enforceIpLimit } from "./limits";
import { codeHmac, normalizeEmail } from "./registration";
import type { Device } from "./session-tokens";
import { completeSignIn } from "./sign-in";

// Passwordless sign-in: a 6-digit code emailed to an account's verified address. It lives in the
// address's Durable Object under its own purpose, so the code store keeps it apart from a sign-up's
// or a reset's code (and the HMAC names the purpose too): one can never stand in for another. The
// cooldown, the send counters and the attempt cap are those of every other emailed code.

const PURPOSE = "signin";

/**
 * Same answer, status and storage work for every address: the cooldown is claimed and the send
 * counted whether or not an account can receive a code. Only an active account whose address is
 * verified gets one, and its code is stored and sent after the response.
 */
export async function sendEmailSignInCode(deps: Deps, rawEmail: string, meta: RequestMeta, now: number): Promise<void> {
  const email = normalizeEmail(rawEmail);
  const { config } = deps;
  const { subject, user, cooldownMs } = await claimEmailSend(deps, email, PURPOSE, meta, now);

  const code = randomDigits(6);
  const hmac = await codeHmac(deps, PURPOSE, email, code);
  const eligible = Boolean(user?.isActive && user.isEmailVerified);
  deps.audit({ action: "login.code_requested", subjectId: user?.id ?? null, details: { method: "email_code", email, sent: eligible } });
  if (!user || !eligible) return;

  const ttlMs = config.emailCodeTtl * 1000;
  deliverCodeInBackground(deps.defer, subject, { purpose: PURPOSE, counter: COUNTERS.emailSends, dropRecord: true }, async () => {
    await subject.putCode({
      purpose: PURPOSE,
      codeHmac: hmac,
      linkHash: null,
      payload: JSON.stringify({ userId: user.id }),
      now,
      codeTtlMs: ttlMs,
      linkTtlMs: 0,
      recordTtlMs: ttlMs,
      cooldownMs,
      // Claimed above, for every address alike.
      refuseInsideCooldown: false,
    });
    await deps.mailer.send({
      to: email,
      subject: "Your sign-in code",
      text:
        `Your sign-in code is ${code}. It expires in ${Math.round(config.emailCodeTtl / 60)} minutes. ` +
        "Enter it only on the page where you asked for it, and share it with no one. " +
        "If you did not try to sign in, ignore this email: nobody can sign in without this code.",
    });
  });
}

/**
 * Signs in with an emailed code. A wrong code, an unknown address and an address with no code all
 * answer 400 `invalid_code` (no oracle); the fifth miss burns the code (429 `too_many_attempts`).
 * A right code is spent at once, whatever happens next.
 */
export async function verifyEmailSignInCode(
  deps: Deps,
  input: { email: string; code: string; device: Device },
  meta: RequestMeta,
  now: number,
) {
  const email = normalizeEmail(input.email);
  const { config } = deps;
  await enforceIpLimit(deps, meta.ip, COUNTERS.codeVerify, config.limits.codeVerifyIp, now);
  const result = await emailSubject(deps, email).verifyCode({
    purpose: PURPOSE,
    codeHmac: await codeHmac(deps, PURPOSE, email, input.code),
    now,
    maxAttempts: config.codeMaxAttempts,
  });
  if (!result.ok) {
    const reason = result.reason === "exhausted" ? "too_many_attempts" : "invalid_code";
    deps.audit({ action: "login.failed", details: { method: "email_code", email, reason } });
    throw failedCheck(result, "invalid_code");
  }
  const { userId } = JSON.parse(result.payload) as { userId: string };
  const user = await findUserById(deps.db, userId);
  // The address left the account (changed, or the account erased) after the code was sent.
  if (!user || user.email !== email || !user.isEmailVerified) {
    deps.audit({ action: "login.failed", subjectId: userId, details: { method: "email_code", email, reason: "address_changed" } });
    throw new AppError("invalid_code");
  }
  return completeSignIn(deps, user, { method: "email_code", device: input.device, meta, now });
}
