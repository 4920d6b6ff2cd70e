import * as z from "zod";
import { DOCUMENT_MEDIA_TYPES } from "../domain/kyc";
import { DOCUMENT_KINDS, DOCUMENT_TYPES, KYC_STATUSES } from "../domain/kyc-values";
import { IDENTITY_PROVIDERS } from "../domain/identity-providers";
import { SessionFieldsSchema, UserSchema } from "./schemas";
import { PasskeySchema } from "./webauthn-schemas";

// The account export's shape (OpenAPI component `AccountExport`); src/domain/account-export.ts builds
// it, one section per place the data is held.

const MEDIA_TYPES = Object.keys(DOCUMENT_MEDIA_TYPES) as [keyof typeof DOCUMENT_MEDIA_TYPES];
const time = z.iso.datetime();

const ExportProfile = UserSchema.extend({
  email: z.string().nullable().meta({ description: "The proved address (null when none is proved)" }),
  unverified_email: z.string().nullable().meta({ description: "An address given at phone sign-up and never proved" }),
  is_active: z.boolean(),
  has_password: z.boolean().meta({ description: "Whether a password is set (never the password or its hash)" }),
  updated_at: time,
}).meta({ id: "ExportProfile" });

const ExportIdentity = z
  .object({
    provider: z.enum(IDENTITY_PROVIDERS),
    provider_user_id: z.string().meta({ description: "The provider's id of the account (OIDC `sub`)" }),
    email: z.string().nullable(),
    linked_at: time,
  })
  .meta({ id: "ExportIdentity" });

const ExportSession = SessionFieldsSchema.extend({
  expires_at: time,
  revoked_at: time.nullable(),
}).meta({ id: "ExportSession" });

const ExportSecondFactors = z
  .object({
    totp: z.object({
      enabled: z.boolean(),
      enrollment_pending: z.boolean(),
      created_at: time.nullable(),
      confirmed_at: time.nullable(),
    }),
    recovery_codes: z.object({ left: z.number().int(), used: z.number().int(), created_at: time.nullable() }),
  })
  .meta({ id: "ExportSecondFactors", description: "Public facts only: never a secret, a code or a hash" });

const ExportKycDocument = z
  .object({
    id: z.uuid(),
    kind: z.enum(DOCUMENT_KINDS),
    content_type: z.enum(MEDIA_TYPES),
    size: z.number().int(),
    uploaded_at: time,
    download_url: z.url().meta({ description: "Downloads the file, without a bearer token, until `download_expires_at` (10 minutes)" }),
    download_expires_at: time,
  })
  .meta({ id: "ExportKycDocument" });

const ExportKycApplication = z
  .object({
    id: z.uuid(),
    status: z.enum(KYC_STATUSES),
    document_type: z.enum(DOCUMENT_TYPES),
    submitted_at: time,
    decided_at: time.nullable(),
    decided_by: z.enum(["admin", "verification_provider"]).nullable(),
    rejection_reason: z.string().nullable(),
    documents: z.array(ExportKycDocument),
  })
  .meta({ id: "ExportKycApplication" });

const ExportAuditEvent = z
  .object({
    id: z.uuid(),
    at: time,
    action: z.string(),
    actor: z.enum(["self", "another_user", "system", "provider"]).nullable().meta({
      description: "Who acted: the user, another person (an administrator), the service, the verification provider, or nobody signed in",
    }),
    about_self: z.boolean().meta({ description: "Whether the event concerns the user (else: the user acted on someone else)" }),
    ip: z.string().nullable().meta({ description: "Only for the user's own actions" }),
    user_agent: z.string().nullable().meta({ description: "Only for the user's own actions" }),
    details: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: "ExportAuditEvent" });

export const AccountExportSchema = z
  .object({
    format: z.literal("edge-auth.account-export.v1"),
    exported_at: time,
    user_id: z.uuid(),
    profile: ExportProfile,
    identities: z.array(ExportIdentity),
    sessions: z.array(ExportSession),
    second_factors: ExportSecondFactors,
    passkeys: z.array(PasskeySchema),
    kyc_applications: z.array(ExportKycApplication),
    audit_events: z.array(ExportAuditEvent),
  })
  .meta({ id: "AccountExport" });
