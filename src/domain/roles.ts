import { AppError } from "../errors";

// The roles an account holds: stored in users.role, copied into the access token's `role` claim, and
// checked by requireRole against the row as stored now. Every enum of roles (D1, zod, the token
// check) is derived from this list.

export const ROLES = ["CUSTOMER", "PROVIDER", "ADMIN"] as const;

export type Role = (typeof ROLES)[number];

/** What a sign-up may ask for: ADMIN is only ever given by another admin. */
export const SIGN_UP_ROLES = ["CUSTOMER", "PROVIDER"] as const satisfies readonly Role[];

export type SignUpRole = (typeof SIGN_UP_ROLES)[number];

/**
 * The role a user is created with, checked again where the row is written (the routes' schemas
 * already refuse anything else): whatever reaches here, no sign-up makes an ADMIN.
 */
export function signUpRole(role: string | undefined): SignUpRole {
  if (role === undefined) return "CUSTOMER";
  if (!(SIGN_UP_ROLES as readonly string[]).includes(role)) {
    throw new AppError("validation_error", { errors: [{ path: "role", message: "must be CUSTOMER or PROVIDER" }] });
  }
  return role as SignUpRole;
}
