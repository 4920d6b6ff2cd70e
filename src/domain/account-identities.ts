import { AppError } from "../errors";
import { findIdentity, updateIdentityEmail, type Identity } from "../storage/identities";
import { listPasskeys } from "../storage/passkeys";
import {
  insertIdentityIfFree,
  listIdentitiesOf,
  removeGoogleIdentities,
  removePassword,
  removePhone,
  type Removal,
} from "../storage/user-identities";
import { findUserById } from "../storage/users";
import type { Deps } from "./deps";
import { requireGoogle, verifyGoogleIdToken } from "./google";

// The signed-in user's ways in (GET /users/me/identities), linking a Google account they prove
// with an ID token, and removing a way in unless it is the last one (src/storage/ways-in.ts).

export type SignInIdentity =
  | { type: "password" }
  | { type: "email_code"; email: string }
  | { type: "phone"; phone: string; verified: true }
  | { type: "google"; email: string | null; linked_at: string }
  | { type: "passkey"; id: string; name: string; created_at: string; last_used_at: string | null };

export const REMOVABLE_IDENTITIES = ["google", "phone", "password"] as const;
export type RemovableIdentity = (typeof REMOVABLE_IDENTITIES)[number];

function presentGoogle(identity: Identity): SignInIdentity {
  return { type: "google", email: identity.email, linked_at: identity.createdAt.toISOString() };
}

/**
 * Every way the user can sign in now, with nothing secret: a password only with a verified email
 * (the login refuses an unverified one), the emailed code for a verified email, a proved phone
 * number, each linked Google account, each passkey.
 */
export async function signInIdentities(deps: Deps, userId: string): Promise<SignInIdentity[]> {
  const [user, linked, passkeys] = await Promise.all([
    findUserById(deps.db, userId),
    listIdentitiesOf(deps.db, userId),
    listPasskeys(deps.db, userId),
  ]);
  if (!user) throw new AppError("invalid_access_token");
  const list: SignInIdentity[] = [];
  const verifiedEmail = user.email !== null && user.isEmailVerified ? user.email : null;
  if (user.passwordHash && verifiedEmail) list.push({ type: "password" });
  if (verifiedEmail) list.push({ type: "email_code", email: verifiedEmail });
  if (user.phone && user.isPhoneVerified) list.push({ type: "phone", phone: user.phone, verified: true });
  for (const identity of linked) if (identity.provider === "google") list.push(presentGoogle(identity));
  for (const p of passkeys) {
    list.push({
      type: "passkey",
      id: p.id,
      name: p.name,
      created_at: p.createdAt.toISOString(),
      last_used_at: p.lastUsedAt ? p.lastUsedAt.toISOString() : null,
    });
  }
  return list;
}

/**
 * Links the Google account an ID token proves (checked exactly as a Google sign-in checks it) to
 * this user. Linking it again is a no-op; an account linked to another user is refused, whatever
 * its email says: identities move between users never.
 */
export async function linkGoogleIdentity(deps: Deps, userId: string, idToken: string, now: number): Promise<SignInIdentity> {
  const proved = await verifyGoogleIdToken(requireGoogle(deps.config), idToken, { now });
  const row = { provider: proved.provider, providerUserId: proved.subject, userId, email: proved.email };
  // A second pass only if the link this one saw was removed before it could be read back.
  for (let attempt = 0; attempt < 2; attempt++) {
    const created = await insertIdentityIfFree(deps.db, row, new Date(now));
    const linked = await findIdentity(deps.db, proved.provider, proved.subject);
    if (!linked) continue;
    if (linked.userId !== userId) throw new AppError("identity_in_use");
    if (created) deps.audit({ action: "identity.linked", actorId: userId, details: { provider: proved.provider } });
    else if (proved.email !== null && linked.email !== proved.email) {
      await updateIdentityEmail(deps.db, proved.provider, proved.subject, proved.email);
      return presentGoogle({ ...linked, email: proved.email });
    }
    return presentGoogle(linked);
  }
  throw new Error("google link did not settle");
}

/**
 * Removes one kind of way in; refused (409 last_sign_in_method) when nothing else would let the
 * user in, decided inside the removing statement so parallel removals cannot both pass. Sessions
 * stay open: removing a way in is not a sign of compromise, and the caller has just proved a recent
 * sign-in.
 */
export async function unlinkIdentity(deps: Deps, userId: string, type: RemovableIdentity, now: number): Promise<void> {
  const removers: Record<RemovableIdentity, () => Promise<Removal>> = {
    google: () => removeGoogleIdentities(deps.db, userId),
    phone: () => removePhone(deps.db, userId, new Date(now)),
    password: () => removePassword(deps.db, userId, new Date(now)),
  };
  const removal = await removers[type]();
  if (removal === "not_found") throw new AppError("identity_not_found");
  if (removal === "last_way_in") throw new AppError("last_sign_in_method");
  // Never the number or the address: the audit log must not keep what the user just removed.
  deps.audit({ action: "identity.unlinked", actorId: userId, details: { type } });
}
