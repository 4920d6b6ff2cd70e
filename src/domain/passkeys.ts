import { AppError } from "../errors";
import { uniqueViolation } from "../storage/db";
import {
  deletePasskeyKeepingAWayIn,
  insertPasskey,
  listPasskeys,
  renamePasskey,
  type Passkey,
} from "../storage/passkeys";
import type { User } from "../storage/users";
import { userSubject, type Deps } from "./deps";
import {
  checkRegistration,
  claimedChallenge,
  PASSKEY_CHALLENGE_TTL_MS,
  registrationOptions,
  type RegistrationOptions,
  type RegistrationResponseJSON,
} from "./webauthn";

// A user's own passkeys: registering one (options, then the authenticator's answer), listing,
// renaming and removing them. Signing in with one is src/domain/passkey-sign-in.ts.

export type PresentedPasskey = {
  id: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
  backed_up: boolean;
  transports: string[];
};

export function presentPasskey(p: Passkey): PresentedPasskey {
  return {
    id: p.id,
    name: p.name,
    created_at: p.createdAt.toISOString(),
    last_used_at: p.lastUsedAt ? p.lastUsedAt.toISOString() : null,
    backed_up: p.backedUp,
    transports: parseTransports(p.transports),
  };
}

/** Creation options for a new passkey; the challenge waits in the user's object, keyed by itself. */
export async function passkeyRegistrationOptions(deps: Deps, user: User, now: number): Promise<RegistrationOptions> {
  const existing = await listPasskeys(deps.db, user.id);
  const options = await registrationOptions(deps.config, user, existing);
  await userSubject(deps, user.id).putWebAuthnChallenge({
    key: options.challenge,
    purpose: "registration",
    challenge: options.challenge,
    binding: "",
    now,
    ttlMs: PASSKEY_CHALLENGE_TTL_MS,
  });
  return options;
}

/** Stores the credential the authenticator made for a challenge issued to this user. */
export async function addPasskey(
  deps: Deps,
  userId: string,
  input: { credential: RegistrationResponseJSON; name?: string | undefined },
  now: number,
): Promise<PresentedPasskey> {
  const claimed = claimedChallenge(input.credential);
  if (!claimed) return refuse(deps, userId, "malformed");
  const taken = await userSubject(deps, userId).takeWebAuthnChallenge({ key: claimed, purpose: "registration", binding: "", now });
  if (!taken.ok) return refuse(deps, userId, `challenge_${taken.reason}`);
  const checked = await checkRegistration(deps.config, input.credential, taken.challenge);
  if (!checked.ok) return refuse(deps, userId, checked.reason, checked.message);
  const { credential } = checked;
  let row: Passkey;
  try {
    row = await insertPasskey(deps.db, {
      id: crypto.randomUUID(),
      userId,
      credentialId: credential.credentialId,
      publicKey: credential.publicKey,
      counter: credential.counter,
      transports: JSON.stringify(credential.transports),
      backedUp: credential.backedUp,
      deviceType: credential.deviceType,
      aaguid: credential.aaguid,
      name: input.name ?? "Passkey",
      createdAt: new Date(now),
      lastUsedAt: null,
    });
  } catch (err) {
    // One credential id names one credential: registered already, by this user or another.
    if (uniqueViolation(err) === null) throw err;
    return refuse(deps, userId, "credential_registered");
  }
  deps.audit({ action: "passkey.registered", actorId: userId, details: { passkey_id: row.id, backed_up: row.backedUp, aaguid: row.aaguid } });
  return presentPasskey(row);
}

export async function userPasskeys(deps: Deps, userId: string): Promise<PresentedPasskey[]> {
  return (await listPasskeys(deps.db, userId)).map(presentPasskey);
}

export async function renameUserPasskey(deps: Deps, userId: string, id: string, name: string): Promise<PresentedPasskey> {
  const row = await renamePasskey(deps.db, userId, id, name);
  if (!row) throw new AppError("passkey_not_found");
  deps.audit({ action: "passkey.renamed", actorId: userId, details: { passkey_id: id } });
  return presentPasskey(row);
}

/** Removes a passkey, unless the user would be left with no way to sign in. */
export async function removePasskey(deps: Deps, userId: string, id: string): Promise<void> {
  const removed = await deletePasskeyKeepingAWayIn(deps.db, userId, id);
  if (removed === "not_found") throw new AppError("passkey_not_found");
  if (removed === "last_way_in") throw new AppError("last_sign_in_method");
  deps.audit({ action: "passkey.deleted", actorId: userId, details: { passkey_id: id } });
}

function refuse(deps: Deps, userId: string, reason: string, message?: string): never {
  deps.audit({ action: "passkey.registration_failed", actorId: userId, details: { reason, ...(message ? { error: message } : {}) } });
  throw new AppError("invalid_passkey");
}

function parseTransports(text: string): string[] {
  try {
    const parsed = JSON.parse(text) as unknown;
    return Array.isArray(parsed) ? parsed.filter((t): t is string => typeof t === "string") : [];
  } catch {
    return [];
  }
}
