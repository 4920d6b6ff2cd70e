import { z } from "zod";
import { DOCUMENT_MEDIA_TYPES } from "../domain/kyc";
import type { KycApplication, KycApplicationWithDocuments, KycListItem, KycUserSummary } from "../storage/kyc";
import { DOCUMENT_KINDS, DOCUMENT_TYPES, KYC_STATUSES, USER_KYC_STATUSES } from "../domain/kyc-values";
import { ROLES } from "../domain/roles";

// KYC response shapes (OpenAPI components by `id`) and the one mapping from rows to each.

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

export type KycApplicationView = z.infer<typeof KycApplicationSchema>;

function base(a: KycApplication) {
  return {
    id: a.id,
    status: a.status,
    document_type: a.documentType,
    submitted_at: a.submittedAt.toISOString(),
    decided_at: a.decidedAt ? a.decidedAt.toISOString() : null,
    rejection_reason: a.rejectionReason,
  };
}

export function toApplicationView(a: KycApplicationWithDocuments): KycApplicationView {
  const { submitted_at, decided_at, rejection_reason, ...head } = base(a);
  return {
    ...head,
    documents: a.documents.map((d) => ({
      id: d.id,
      kind: d.kind,
      content_type: d.contentType as keyof typeof DOCUMENT_MEDIA_TYPES,
      size: d.size,
    })),
    submitted_at,
    decided_at,
    rejection_reason,
  };
}

function toUserSummary(u: KycUserSummary): z.infer<typeof KycUserSummarySchema> {
  return {
    id: u.id,
    email: u.email,
    phone: u.phone,
    unverified_email: u.unverifiedEmail,
    full_name: u.fullName,
    role: u.role as z.infer<typeof KycUserSummarySchema>["role"],
    kyc_status: u.kycStatus as z.infer<typeof KycUserSummarySchema>["kyc_status"],
  };
}

export function toAdminApplicationView(a: KycApplicationWithDocuments, user: KycUserSummary) {
  return { ...toApplicationView(a), decided_by: a.decidedBy, user: toUserSummary(user) };
}

export function toAdminListItemView(a: KycListItem) {
  return { ...base(a), decided_by: a.decidedBy, user: toUserSummary(a.user) };
}
