import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    /** Only proved addresses: an account is found and linked by this column. */
    email: text("email").unique(),
    /** An address given without proof (phone sign-up): shown to its owner, never used to link. */
    unverifiedEmail: text("unverified_email"),
    username: text("username").unique(),
    phone: text("phone").unique(),
    fullName: text("full_name"),
    firstName: text("first_name"),
    lastName: text("last_name"),
    role: text("role", { enum: ["CUSTOMER", "PROVIDER", "ADMIN"] }).notNull().default("CUSTOMER"),
    passwordHash: text("password_hash"),
    isEmailVerified: integer("is_email_verified", { mode: "boolean" }).notNull().default(false),
    isPhoneVerified: integer("is_phone_verified", { mode: "boolean" }).notNull().default(false),
    isActive: integer("is_active", { mode: "boolean" }).notNull().default(true),
    kycStatus: text("kyc_status", { enum: ["NOT_SUBMITTED", "PENDING", "APPROVED", "REJECTED"] })
      .notNull()
      .default("NOT_SUBMITTED"),
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
  (t) => [index("sessions_user_idx").on(t.userId, t.revokedAt, t.expiresAt)],
);

/** Sign-in identities at external providers, kept by their stable subject, not by email. */
export const identities = sqliteTable(
  "identities",
  {
    provider: text("provider", { enum: ["google"] }).notNull(),
    providerUserId: text("provider_user_id").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    email: text("email"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.provider, t.providerUserId] }), index("identities_user_idx").on(t.userId)],
);

export type UserRow = typeof users.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;
