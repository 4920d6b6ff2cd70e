import * as z from "zod";
import { USER_KYC_STATUSES } from "../domain/kyc-values";
import { ROLES, SIGN_UP_ROLES } from "../domain/roles";
import { USERNAME_PATTERN, isReservedUsername, normalizeUsername } from "../domain/username";

// Response shapes shared by several routes, registered as OpenAPI components by their `id`.

export const UserSchema = z
  .object({
    id: z.uuid(),
    email: z.email().nullable(),
    username: z.string().nullable(),
    phone: z.string().nullable(),
    full_name: z.string().nullable(),
    first_name: z.string().nullable(),
    last_name: z.string().nullable(),
    role: z.enum(ROLES),
    is_email_verified: z.boolean(),
    is_phone_verified: z.boolean(),
    kyc_status: z.enum(USER_KYC_STATUSES),
    profile_picture: z.string().nullable(),
    created_at: z.iso.datetime(),
  })
  .meta({ id: "User" });

export const TokenPairSchema = z
  .object({
    access_token: z.string().meta({ description: "EdDSA-signed JWT (typ at+jwt)" }),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int(),
    access_expires_at: z.iso.datetime(),
    refresh_token: z.string().meta({ description: "Opaque; rotated on every use" }),
    refresh_expires_at: z.iso.datetime(),
  })
  .meta({ id: "TokenPair" });

export const TokenResponseSchema = TokenPairSchema.extend({
  user: UserSchema,
  device_token: z.string().optional().meta({
    description:
      "Password sign-in only. Opaque; keep it on this device and send it with the next password sign-in from it: " +
      "while the account is locked by failed attempts, that sign-in gets its own small budget instead of being refused.",
  }),
}).meta({ id: "TokenResponse" });

/** What a session shows of itself (the session list's `Session`, the export's `ExportSession`). */
export const SessionFieldsSchema = z.object({
  id: z.uuid(),
  device_id: z.string(),
  device_name: z.string().nullable(),
  user_agent: z.string().nullable(),
  ip: z.string().nullable(),
  created_at: z.iso.datetime(),
  last_used_at: z.iso.datetime(),
});

export const MessageSchema = z.object({ message: z.string() }).meta({ id: "Message" });

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().meta({ description: "Stable machine-readable error code" }),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: "Problem" });

// Request field rules shared across routes.
export const EmailField = z.email().max(254);
export const PasswordField = z.string().min(8).max(128);

/** Read in NFKC (full-width letters fold to ASCII); case is kept, uniqueness ignores it. */
export const UsernameField = z
  .string()
  .max(200)
  .transform(normalizeUsername)
  .pipe(
    z
      .string()
      .regex(USERNAME_PATTERN, "3 to 30 letters, digits, '_', '.' or '-'")
      .refine((name) => !isReservedUsername(name), "This username is reserved"),
  );

/** The role a sign-up may ask for; ADMIN is refused (400, `errors[].path` "role"). */
export const SignUpRoleField = z.enum(SIGN_UP_ROLES).meta({
  description: "Used only when this sign-in creates the user (default CUSTOMER); never changes an existing user. ADMIN is refused.",
});

export const DeviceTokenField = z.string().max(1024).meta({
  description: "The `device_token` of an earlier password sign-in on this device; an invalid or expired one is ignored.",
});
