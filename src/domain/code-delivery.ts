import { DeliveryError } from "../delivery/errors";
import { resendCooldownName } from "../durable/subject-store";
import { AppError } from "../errors";
import { findUserByEmail, type User } from "../storage/users";
import { emailSubject, type AddressSubject, type Codes, type Deps, type RequestMeta } from "./deps";
import { COUNTERS, enforceIpLimit, enforceLimit } from "./limits";

/**
 * Sends the message that carries a fresh code. If the provider fails, the send is undone in the
 * Durable Object (no usable code left, cooldown and counter given back) and the caller gets 502
 * `delivery_failed`.
 */
export async function deliverCode(
  subject: Codes,
  undo: { purpose: string; counter: string; dropRecord: boolean },
  send: () => Promise<void>,
): Promise<void> {
  try {
    await send();
  } catch (err) {
    await subject.undoSend(undo);
    if (err instanceof DeliveryError) {
      console.error(JSON.stringify({ level: "error", event: "delivery_failed", purpose: undo.purpose, reason: err.message }));
      throw new AppError("delivery_failed", { cause: err });
    }
    throw err;
  }
}

/**
 * For answers that must not reveal whether an account exists (resend, password reset): the message
 * goes out after the response, so success and failure look and take the same; a failure is logged
 * and undone.
 */
export function deliverCodeInBackground(
  defer: Deps["defer"],
  subject: Codes,
  undo: { purpose: string; counter: string; dropRecord: boolean },
  send: () => Promise<void>,
): void {
  defer(() => deliverCode(subject, undo, send).catch(() => undefined));
}

/**
 * The first steps of a code emailed to whoever owns an (already normalized) address (password reset, sign-in code), the
 * same for an account and for nobody, so neither the answer nor the work tells them apart: the
 * client's send limit, the purpose's cooldown and the address's send budget are spent either way,
 * and the account is looked up alongside. The caller stores and sends a code only for an account.
 */
export async function claimEmailSend(
  deps: Deps,
  email: string,
  purpose: string,
  meta: RequestMeta,
  now: number,
): Promise<{ subject: AddressSubject; user: User | undefined; cooldownMs: number }> {
  const { config } = deps;
  await enforceIpLimit(deps, meta.ip, COUNTERS.emailSends, config.limits.emailSendsIp, now);
  const subject = emailSubject(deps, email);
  const cooldownMs = config.resendCooldown * 1000;
  const [user, cooldown] = await Promise.all([
    findUserByEmail(deps.db, email),
    subject.claimCooldown({ name: resendCooldownName(purpose), now, ms: cooldownMs }),
  ]);
  if (!cooldown.ok) throw new AppError("rate_limited", { retryAfter: cooldown.retryAfterMs / 1000 });
  await enforceLimit(subject, COUNTERS.emailSends, config.limits.emailSendsPerAddress, now);
  return { subject, user, cooldownMs };
}
