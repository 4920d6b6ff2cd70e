// Sign-in identities at other providers: an account there, proved by the provider, that signs into
// one user here. Each provider proves its identities its own way (src/domain/google.ts checks Google's
// ID tokens); linking them to users is the same for all (src/domain/identities.ts). A new provider
// is a new entry here and a module that proves its identities.

export const IDENTITY_PROVIDERS = ["google"] as const;

export type IdentityProvider = (typeof IDENTITY_PROVIDERS)[number];

/** An identity its provider has just proved. */
export type ProvedIdentity = {
  provider: IdentityProvider;
  /** The provider's stable id of the account (OIDC `sub`): identities are kept by it, never by email. */
  subject: string;
  /** An address the provider proved (normalized), the only kind an identity may be linked by; null if it proves none. */
  email: string | null;
  /** Used only when this sign-in creates the user. */
  profile: { fullName: string | null; firstName: string | null; lastName: string | null; picture: string | null };
};
