// The roles an account holds: stored in users.role, copied into the access token's `role` claim, and
// checked by requireRole against the row as stored now. Every enum of roles (D1, zod, the token
// check) is derived from this list.

export const ROLES = ["CUSTOMER", "PROVIDER", "ADMIN"] as const;

export type Role = (typeof ROLES)[number];

/** What a sign-up may ask for: ADMIN is only ever given by another admin. */
export const SIGN_UP_ROLES = ["CUSTOMER", "PROVIDER"] as const satisfies readonly Role[];

export type SignUpRole = (typeof SIGN_UP_ROLES)[number];
