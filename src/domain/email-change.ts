import { AppError } from "../errors";
import { setVerifiedEmail } from "../storage/contact-changes";
import { uniqueViolation } from "../storage/db";
import { findUserByEmail, type User } from "../storage/users";
import { activeUser, sendAccountCode, takeAccountCode } from "./account-codes";
import { emailSubject, userSubject, type Deps, type RequestMeta } from "./deps";
import { COUNTERS, enforceIpLimit, enforceLimit } from "./limits";
import { normalizeEmail } from "./registration";

// Email change (and a phone user's first proved address): a 6-digit code to the NEW address, held by
// the user's Durable Object under its own purpose with the address in its payload, so the confirm
// needs only the code and a code can never name another address or account. The user's row changes
// on confirmation only, in one statement: the unique index on `email` decides a race with a sign-up
// or another change, and the loser writes nothing. The old address then gets a notice, so that a
// takeover that changed the address is seen by the person who still reads it.

const PURPOSE = "email-change";

type Pending = { email: string };

export async function requestEmailChange(
  deps: Deps,
  userId: string,
  rawEmail: string,
  meta: RequestMeta,
  now: number,
): Promise<{ email: string }> {
  const email = normalizeEmail(rawEmail);
  const { config } = deps;
  const user = await activeUser(deps, userId);
  const subject = userSubject(deps, user.id);
  await enforceIpLimit(deps, meta.ip, COUNTERS.emailSends, config.limits.emailSendsIp, now);
  // Counted per account before the lookup, so a stolen session cannot probe many addresses.
  await enforceLimit(subject, COUNTERS.emailSends, config.limits.emailSendsPerAddress, now);
  // Taken by anyone, the caller included: the answer never says by whom.
  if (user.email === email || (await findUserByEmail(deps.db, email))) throw new AppError("email_taken");

  await sendAccountCode(
    deps,
    user,
    {
      purpose: PURPOSE,
      ttlSeconds: config.emailCodeTtl,
      payload: { email } satisfies Pending,
      target: emailSubject(deps, email),
      counter: COUNTERS.emailSends,
      perTargetLimit: config.limits.emailSendsPerAddress,
      send: (code) =>
        deps.mailer.send({
          to: email,
          subject: "Confirm your new email address",
          text:
            `Your confirmation code is ${code}. It expires in ${Math.round(config.emailCodeTtl / 60)} minutes. ` +
            "Enter it in your account to make this your sign-in address. " +
            "If you did not ask for this, ignore this email: nothing changes without the code.",
        }),
    },
    now,
  );
  deps.audit({ action: "email.change_requested", actorId: user.id, details: { email } });
  return { email };
}

/**
 * Applies the change the code was sent for. A wrong, expired or used code is 400 `invalid_code`;
 * an address another account took meanwhile is 409 `email_taken` and changes nothing.
 */
export async function confirmEmailChange(deps: Deps, userId: string, code: string, meta: RequestMeta, now: number): Promise<User> {
  const { email } = await takeAccountCode<Pending>(deps, userId, PURPOSE, code, meta, now);
  const before = await activeUser(deps, userId);
  let user: User | undefined;
  try {
    user = await setVerifiedEmail(deps.db, userId, email, new Date(now));
  } catch (err) {
    if (uniqueViolation(err) !== "email") throw err;
    deps.audit({ action: "email.change_failed", actorId: userId, details: { email, reason: "email_taken" } });
    throw new AppError("email_taken");
  }
  if (!user) throw new AppError("invalid_access_token");
  const previous = before.email;
  deps.audit({
    action: "email.changed",
    actorId: userId,
    details: { old_email: previous, new_email: email, first_verified: previous === null },
  });
  if (previous && previous !== email) noticeToOldAddress(deps, previous, now);
  return user;
}

/** Sent after the response: whoever still reads the old address learns of the change and when. */
function noticeToOldAddress(deps: Deps, previous: string, now: number): void {
  const at = new Date(now).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  deps.defer(() =>
    deps.mailer
      .send({
        to: previous,
        subject: "Your sign-in email address was changed",
        text:
          `On ${at} the email address of your account was changed from this address to another one. ` +
          "If it was you, nothing else is needed. If it was not you, someone may have taken over your account: " +
          "contact support at once (a password reset would now go to the new address), and share no code sent to you.",
      })
      .catch((err) => {
        console.error(JSON.stringify({ level: "error", event: "notice_failed", purpose: PURPOSE, reason: String(err) }));
      }),
  );
}
