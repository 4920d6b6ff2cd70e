import { AppError } from "../errors";
import { findUserById, updatePasswordHash } from "../storage/users";
import { randomDigits, randomToken, sha256Hex } from "./crypto";
import { failedCheck } from "./code-check";
import { claimEmailSend, deliverCodeInBackground } from "./code-delivery";
import { emailSubject, revokedHere, userSubject, type Deps, type RequestMeta } from "./deps";
import { COUNTERS } from "./limits";
import { assertAcceptablePassword } from "./password-policy";
import { hashPassword } from "./passwords";
import { codeHmac, normalizeEmail } from "./registration";

const PURPOSE = "reset";

/**
 * Same answer, status and work for existing and unknown addresses: both claim the cooldown and
 * count the send. Storing the code and sending the email happen only for a real account, so both
 * wait until after the response.
 */
export async function requestPasswordReset(deps: Deps, rawEmail: string, meta: RequestMeta, now: number): Promise<void> {
  const email = normalizeEmail(rawEmail);
  const { config } = deps;
  const { subject, user, cooldownMs } = await claimEmailSend(deps, email, PURPOSE, meta, now);

  const code = randomDigits(6);
  const link = randomToken(32);
  const [hmac, linkHash] = await Promise.all([codeHmac(deps, PURPOSE, email, code), sha256Hex(link)]);
  deps.audit({ action: "password.reset_requested", subjectId: user?.id ?? null, details: { email, known: Boolean(user?.isActive) } });
  if (!user || !user.isActive) return;

  const url = `${config.frontendUrl}/reset-password?token=${encodeURIComponent(link)}`;
  deliverCodeInBackground(deps.defer, subject, { purpose: PURPOSE, counter: COUNTERS.emailSends, dropRecord: true }, async () => {
    await subject.putCode({
      purpose: PURPOSE,
      codeHmac: hmac,
      linkHash,
      payload: JSON.stringify({ userId: user.id }),
      now,
      codeTtlMs: config.resetTtl * 1000,
      linkTtlMs: config.resetTtl * 1000,
      recordTtlMs: config.resetTtl * 1000,
      cooldownMs,
      refuseInsideCooldown: false,
    });
    await deps.links.put("reset", linkHash, email, config.resetTtl);
    await deps.mailer.send({
      to: email,
      subject: "Reset your password",
      text:
        `Your password reset code is ${code}. It expires in ${Math.round(config.resetTtl / 60)} minutes. ` +
        `Or open this link: ${url} If you did not ask for this, ignore this email: your password is unchanged.`,
    });
  });
}

export type ResetProof = { token: string } | { email: string; code: string };

/** Sets a new password from a code or link; every session of the user ends. */
export async function confirmPasswordReset(deps: Deps, proof: ResetProof, newPassword: string, now: number): Promise<void> {
  const { config } = deps;
  let email: string;
  let linkHash: string | undefined;
  if ("token" in proof) {
    linkHash = await sha256Hex(proof.token);
    const found = await deps.links.get("reset", linkHash);
    if (!found) throw new AppError("invalid_token");
    email = found;
  } else {
    email = normalizeEmail(proof.email);
  }
  // Refuse a weak password before spending the code.
  await assertAcceptablePassword(deps, newPassword, { email, field: "new_password" });
  const subject = emailSubject(deps, email);
  const result = linkHash
    ? await subject.verifyLink({ purpose: PURPOSE, linkHash, now })
    : await subject.verifyCode({
        purpose: PURPOSE,
        codeHmac: await codeHmac(deps, PURPOSE, email, (proof as { code: string }).code),
        now,
        maxAttempts: config.codeMaxAttempts,
      });
  if (!result.ok) throw failedCheck(result, linkHash ? "invalid_token" : "invalid_code");
  if (linkHash) deps.defer(() => deps.links.delete("reset", linkHash));
  const { userId } = JSON.parse(result.payload) as { userId: string };
  const user = await findUserById(deps.db, userId);
  if (!user || !user.isActive || user.email !== email) throw new AppError(linkHash ? "invalid_token" : "invalid_code");
  await updatePasswordHash(deps.db, user.id, await hashPassword(newPassword), new Date(now));
  const account = userSubject(deps, user.id);
  const [{ revoked }] = await Promise.all([
    account.revokeSessions({ userId: user.id, ids: null, now }).then((answer) => revokedHere(deps, answer)),
    // A reset proves control of the address: lift any login lock on the account.
    account.loginSucceeded(),
  ]);
  deps.audit({ action: "password.reset", actorId: user.id, details: { via: linkHash ? "link" : "code", sessions_revoked: revoked.length } });
}
