import * as z from "zod";
import { DOCUMENT_MEDIA_TYPES } from "../domain/kyc";
import { DOCUMENT_KINDS, DOCUMENT_TYPES, KYC_STATUSES, USER_KYC_STATUSES } from "../domain/kyc-values";
import { ROLES } from "../domain/roles";

// KYC response shapes (OpenAPI components by `id`); src/presenters.ts builds them.

const MEDIA_TYPES = Object.keys(DOCUMENT_MEDIA_TYPES) as [keyof typeof DOCUMENT_MEDIA_TYPES];

export const KycDocumentSchema = z
  .object({
    id: z.uuid(),
    kind: z.enum(DOCUMENT_KINDS),
    content_type: z.enum(MEDIA_TYPES).meta({ description: "Decided from the file's bytes, not from its name or declared type" }),
    size: z.number().int().meta({ description: "Bytes" }),
  })
  .meta({ id: "KycDocument" });

export const KycApplicationSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(KYC_STATUSES),
    document_type: z.enum(DOCUMENT_TYPES),
    documents: z.array(KycDocumentSchema),
    submitted_at: z.iso.datetime(),
    decided_at: z.iso.datetime().nullable(),
    rejection_reason: z.string().nullable(),
  })
  .meta({ id: "KycApplication" });

export const KycUserSummarySchema = z
  .object({
    id: z.uuid(),
    email: z.string().nullable().meta({ description: "The applicant's verified email address; null when none is proved" }),
    phone: z.string().nullable().meta({ description: "The applicant's verified phone number (E.164); null when none is proved" }),
    unverified_email: z.string().nullable().meta({
      description: "An address typed at phone sign-up and never proved: it may belong to someone else, so it identifies no one",
    }),
    full_name: z.string().nullable(),
    role: z.enum(ROLES),
    kyc_status: z.enum(USER_KYC_STATUSES),
  })
  .meta({ id: "KycUserSummary" });

export const AdminKycApplicationSchema = KycApplicationSchema.extend({
  decided_by: z.string().nullable().meta({ description: "The admin's user id, or `provider:<event id>`" }),
  user: KycUserSummarySchema,
}).meta({ id: "AdminKycApplication" });

export const AdminKycListItemSchema = AdminKycApplicationSchema.omit({ documents: true }).meta({ id: "AdminKycListItem" });

