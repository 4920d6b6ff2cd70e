// The values KYC data takes, for D1's columns, the request and response schemas and the domain alike.

/** An application's status: at most one per user is PENDING or APPROVED (kyc_one_open_per_user). */
export const KYC_STATUSES = ["PENDING", "APPROVED", "REJECTED"] as const;

/** users.kyc_status: the status of the user's latest application, or NOT_SUBMITTED without one. */
export const USER_KYC_STATUSES = ["NOT_SUBMITTED", ...KYC_STATUSES] as const;

export const DOCUMENT_TYPES = ["passport", "national_id", "driving_license"] as const;

/** The files of an application, in the order they are listed. */
export const DOCUMENT_KINDS = ["front", "back", "selfie"] as const;

export type KycStatus = (typeof KYC_STATUSES)[number];
export type UserKycStatus = (typeof USER_KYC_STATUSES)[number];
export type DocumentType = (typeof DOCUMENT_TYPES)[number];
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];
