import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { DOCUMENT_KINDS, DOCUMENT_TYPES, KYC_STATUSES, USER_KYC_STATUSES } from "../domain/kyc-values";
import { IDENTITY_PROVIDERS } from "../domain/identity-providers";
import { ROLES } from "../domain/roles";

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    /** Only proved addresses: an account is found and linked by this column. */
    email: text("email").unique(),
    /** An address given without proof (phone sign-up): shown to its owner, never used to link. */
    unverifiedEmail: text("unverified_email"),
    /** As the user typed it (NFKC); unique through `username_key`. */
    username: text("username"),
    /** The username's canonical form (NFKC, lower case): `Pc` and `pc` are one name. */
    usernameKey: text("username_key").unique(),
    phone: text("phone").unique(),
    fullName: text("full_name"),
    firstName: text("first_name"),
    lastName: text("last_name"),
    role: text("role", { enum: ROLES }).notNull().default("CUSTOMER"),
    passwordHash: text("password_hash"),
    isEmailVerified: integer("is_email_verified", { mode: "boolean" }).notNull().default(false),
    isPhoneVerified: integer("is_phone_verified", { mode: "boolean" }).notNull().default(false),
    isActive: integer("is_active", { mode: "boolean" }).notNull().default(true),
    kycStatus: text("kyc_status", { enum: USER_KYC_STATUSES }).notNull().default("NOT_SUBMITTED"),
    profilePicture: text("profile_picture"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("users_created_at_idx").on(t.createdAt)],
);

export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    deviceId: text("device_id").notNull(),
    deviceName: text("device_name"),
    userAgent: text("user_agent"),
    ip: text("ip"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }).notNull(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    index("sessions_user_idx").on(t.userId, t.revokedAt, t.expiresAt),
    // When a session ended (revoked, or else expired): the daily cron deletes rows long ended.
    index("sessions_ended_idx").on(sql`coalesce(${t.revokedAt}, ${t.expiresAt})`),
  ],
);

/** Sign-in identities at other providers (src/domain/identity-providers.ts), kept by their stable subject, not by email. */
export const identities = sqliteTable(
  "identities",
  {
    provider: text("provider", { enum: IDENTITY_PROVIDERS }).notNull(),
    providerUserId: text("provider_user_id").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    email: text("email"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.provider, t.providerUserId] }), index("identities_user_idx").on(t.userId)],
);

export const kycApplications = sqliteTable(
  "kyc_applications",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    status: text("status", { enum: KYC_STATUSES }).notNull(),
    documentType: text("document_type", { enum: DOCUMENT_TYPES }).notNull(),
    rejectionReason: text("rejection_reason"),
    submittedAt: integer("submitted_at", { mode: "timestamp_ms" }).notNull(),
    decidedAt: integer("decided_at", { mode: "timestamp_ms" }),
    /** The admin's user id, or `provider:<event id>` for a webhook decision. */
    decidedBy: text("decided_by"),
  },
  (t) => [
    index("kyc_status_submitted_idx").on(t.status, t.submittedAt, t.id),
    index("kyc_user_idx").on(t.userId, t.submittedAt),
    // At most one application per user is PENDING or APPROVED, whatever the concurrency.
    uniqueIndex("kyc_one_open_per_user").on(t.userId).where(sql`status IN ('PENDING', 'APPROVED')`),
  ],
);

export const kycDocuments = sqliteTable(
  "kyc_documents",
  {
    id: text("id").primaryKey(),
    applicationId: text("application_id")
      .notNull()
      .references(() => kycApplications.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: DOCUMENT_KINDS }).notNull(),
    contentType: text("content_type").notNull(),
    size: integer("size").notNull(),
    r2Key: text("r2_key").notNull().unique(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("kyc_documents_application_idx").on(t.applicationId)],
);

/** Verification-provider webhook events already applied, so a replayed event changes nothing. */
export const webhookEvents = sqliteTable("webhook_events", {
  id: text("id").primaryKey(),
  type: text("type").notNull(),
  receivedAt: integer("received_at", { mode: "timestamp_ms" }).notNull(),
});

export const auditEvents = sqliteTable(
  "audit_events",
  {
    id: text("id").primaryKey(),
    at: integer("at", { mode: "timestamp_ms" }).notNull(),
    action: text("action").notNull(),
    /** Who did it: a user id, `provider`, `system`, or null for an anonymous caller. */
    actorId: text("actor_id"),
    /** Whom it concerns (the user id), when known. */
    subjectId: text("subject_id"),
    ip: text("ip"),
    userAgent: text("user_agent"),
    requestId: text("request_id"),
    /** JSON with non-secret details (session id, role change, reason…). */
    details: text("details"),
  },
  (t) => [index("audit_at_idx").on(t.at, t.id), index("audit_subject_idx").on(t.subjectId, t.at, t.id)],
);

export type UserRow = typeof users.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;

/**
 * One authenticator-app secret per user, encrypted (AES-256-GCM, src/domain/mfa-secrets.ts) under
 * the key named by `key_id`; `confirmed_at` null: enrolment begun, not active yet.
 */
export const mfaTotp = sqliteTable("mfa_totp", {
  userId: text("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  secretCiphertext: text("secret_ciphertext").notNull(),
  keyId: text("key_id").notNull(),
  confirmedAt: integer("confirmed_at", { mode: "timestamp_ms" }),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
});

/** Recovery codes by SHA-256 only (each code carries 80 random bits); `used_at` set: spent. */
export const mfaRecoveryCodes = sqliteTable(
  "mfa_recovery_codes",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    codeHash: text("code_hash").notNull(),
    usedAt: integer("used_at", { mode: "timestamp_ms" }),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.codeHash] })],
);

/**
 * WebAuthn credentials (passkeys). Only public data: the credential's id (base64url, unique across
 * all users, since an authenticator names one credential once), its COSE public key (base64url), the
 * signature counter last seen, and what the authenticator said of itself at registration.
 */
export const passkeys = sqliteTable(
  "passkeys",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    credentialId: text("credential_id").notNull().unique(),
    publicKey: text("public_key").notNull(),
    counter: integer("counter").notNull().default(0),
    /** JSON array of AuthenticatorTransport values, as the browser reported them. */
    transports: text("transports").notNull().default("[]"),
    backedUp: integer("backed_up", { mode: "boolean" }).notNull().default(false),
    /** "singleDevice" or "multiDevice" (a synced passkey). */
    deviceType: text("device_type").notNull(),
    aaguid: text("aaguid").notNull(),
    name: text("name").notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }),
  },
  (t) => [index("passkeys_user_idx").on(t.userId, t.createdAt)],
);

/**
 * Accounts being erased (src/domain/account-deletion.ts): written in the same batch that disables
 * the account, removed in the batch that erases its rows. Holds ids only, so a deletion interrupted
 * at any step is found and finished by the daily housekeeping.
 */
export const deletions = sqliteTable("deletions", {
  userId: text("user_id").primaryKey(),
  requestedAt: integer("requested_at", { mode: "timestamp_ms" }).notNull(),
  /** The user themselves or the admin who deleted them. */
  requestedBy: text("requested_by").notNull(),
});
