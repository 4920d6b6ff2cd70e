import { uniqueViolation } from "../storage/db";
import { findIdentity, insertUserWithIdentity, linkIdentity, updateIdentityEmail } from "../storage/identities";
import { findUserByEmail, findUserById, type User } from "../storage/users";
import type { Deps, RequestMeta } from "./deps";
import type { ProvedIdentity } from "./identity-providers";
import type { Device } from "./session-tokens";
import { signUpRole, type SignUpRole } from "./roles";
import { completeSignIn } from "./sign-in";

/**
 * The user a proved identity signs into: the one the identity (provider, subject) is linked to, even
 * if its email changed since; else the user with that proved email, now linked; else a new user.
 * Concurrent first sign-ins converge: the loser of the insert reads the winner's rows. `role` is
 * what a new user is created with; a user found (linked or by email) keeps their own.
 */
export async function userForIdentity(
  deps: Deps,
  identity: ProvedIdentity,
  now: number,
  role: SignUpRole = "CUSTOMER",
): Promise<{ user: User; created: boolean }> {
  const { provider, subject, email } = identity;
  const at = new Date(now);
  for (let attempt = 0; attempt < 3; attempt++) {
    const linkedIdentity = await findIdentity(deps.db, provider, subject);
    const linked = linkedIdentity && (await findUserById(deps.db, linkedIdentity.userId));
    if (linkedIdentity && linked) {
      if (email !== null && linkedIdentity.email !== email) deps.defer(() => updateIdentityEmail(deps.db, provider, subject, email));
      return { user: linked, created: false };
    }
    // users.email only holds proved addresses, so an unproved claim to this one can never be linked.
    const byEmail = email === null ? undefined : await findUserByEmail(deps.db, email);
    if (byEmail) {
      await linkIdentity(deps.db, { provider, providerUserId: subject, userId: byEmail.id, email }, at);
      continue; // read the link back: a concurrent sign-in may have made it first
    }
    try {
      const user = await insertUserWithIdentity(
        deps.db,
        {
          id: crypto.randomUUID(),
          email,
          fullName: identity.profile.fullName,
          firstName: identity.profile.firstName,
          lastName: identity.profile.lastName,
          profilePicture: identity.profile.picture,
          role: signUpRole(role),
          passwordHash: null,
          isEmailVerified: email !== null,
        },
        { provider, providerUserId: subject, email },
        at,
      );
      return { user, created: true };
    } catch (err) {
      // Another sign-in created this account or identity first; the batch was rolled back.
      if (uniqueViolation(err) === null) throw err;
    }
  }
  throw new Error(`${provider} sign-in did not converge on one user`);
}

/** userForIdentity, with the creation of a user audited. */
export async function accountForIdentity(
  deps: Deps,
  identity: ProvedIdentity,
  now: number,
  role: SignUpRole = "CUSTOMER",
): Promise<{ user: User; created: boolean }> {
  const found = await userForIdentity(deps, identity, now, role);
  if (found.created) {
    deps.audit({ action: "user.created", actorId: found.user.id, details: { method: identity.provider, role: found.user.role } });
  }
  return found;
}

/** Opens a session for the user of a proved identity; `created` says whether this sign-in made the user. */
export async function signInWithIdentity(
  deps: Deps,
  identity: ProvedIdentity,
  device: Device,
  meta: RequestMeta,
  now: number,
  role: SignUpRole = "CUSTOMER",
) {
  const { user, created } = await accountForIdentity(deps, identity, now, role);
  return { ...(await completeSignIn(deps, user, { method: identity.provider, device, meta, now })), created };
}
