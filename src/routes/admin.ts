import { Hono } from "hono";
import * as z from "zod";
import { findAuditEvents, findUsers, revokeUserSessions, updateUserAsAdmin, type AdminPatch } from "../domain/admin";
import { ROLES } from "../domain/roles";
import { resetSecondFactors } from "../domain/second-factors";
import type { AppEnv } from "../http/app-env";
import { describeRoute } from "../http/openapi-meta";
import { CursorField, LimitField, NextCursorField } from "../http/pagination";
import { UserSchema } from "../http/schemas";
import { validate } from "../http/validate";
import { requireAuth } from "../middleware/require-auth";
import { requireRole } from "../middleware/require-role";
import { presentAdminUser, presentAuditEvent, presentPage } from "../presenters";

const TAGS = ["Admin"];

const AdminUserSchema = UserSchema.extend({
  is_active: z.boolean().meta({ description: "false: the account cannot sign in and has no working session" }),
}).meta({ id: "AdminUser" });

const AuditEventSchema = z
  .object({
    id: z.uuid(),
    at: z.iso.datetime(),
    action: z.string().meta({ description: "e.g. `login.succeeded`, `admin.role_changed`" }),
    actor_id: z.string().nullable().meta({ description: "A user id, `provider`, `system`, or null for an anonymous caller" }),
    subject_id: z.string().nullable().meta({ description: "The user the event concerns" }),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    request_id: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: "AuditEvent" });

const NextCursor = NextCursorField.meta({ description: "Pass as `cursor` for the next page; null on the last page" });

const CursorParam = CursorField.regex(/^[A-Za-z0-9_-]+$/, "an opaque cursor from next_cursor").optional();

const UsersQuery = z.object({
  query: z.string().trim().max(200).optional().meta({
    description: "Case-insensitive substring of email, username, phone or name; `%` and `_` match literally",
  }),
  cursor: CursorParam,
  limit: LimitField,
});

const UserParam = z.object({ id: z.uuid() });

const PatchUserBody = z
  .object({
    role: z.enum(ROLES).optional(),
    is_active: z.boolean().optional(),
  })
  .strict()
  .refine((b) => b.role !== undefined || b.is_active !== undefined, { message: "Give role, is_active or both" });

const AuditQuery = z.object({
  user_id: z.uuid().optional().meta({ description: "Only events whose subject is this user" }),
  action: z
    .string()
    .regex(/^[a-z_]+\.[a-z_]+$/, "an action such as login.failed")
    .max(64)
    .optional(),
  cursor: CursorParam,
  limit: LimitField,
});

const ADMIN_ONLY = "Administrators only (the role stored now, not the token's claim).";

export const adminRoutes = new Hono<AppEnv>()
  .get(
    "/users",
    describeRoute({
      tags: TAGS,
      auth: "bearer",
      summary: "Search users (newest first, paginated)",
      description: ADMIN_ONLY,
      responses: {
        200: {
          description: "A page of users",
          schema: z.object({ users: z.array(AdminUserSchema), next_cursor: NextCursor }),
        },
      },
      errors: ["validation_error"],
    }),
    requireAuth,
    requireRole("ADMIN"),
    validate("query", UsersQuery),
    async (c) => {
      const q = c.req.valid("query");
      const page = await findUsers(c.var.deps, { query: q.query || null, cursor: q.cursor ?? null, limit: q.limit });
      return c.json(presentPage("users", page.items.map(presentAdminUser), page.nextCursor), 200);
    },
  )
  .patch(
    "/users/:id",
    describeRoute({
      tags: TAGS,
      auth: "bearer",
      summary: "Change a user's role or activation",
      description: `${ADMIN_ONLY} Deactivating ends every session of the user at once (refresh and access tokens) and refuses their sign-ins with 403 \`account_disabled\`. A role change takes effect on the user's next request. The last active administrator cannot be demoted or deactivated (409 \`last_admin\`).`,
      responses: { 200: { description: "The user", schema: AdminUserSchema } },
      errors: ["user_not_found", "last_admin"],
    }),
    requireAuth,
    requireRole("ADMIN"),
    validate("param", UserParam),
    validate("json", PatchUserBody),
    async (c) => {
      const body = c.req.valid("json");
      const patch: AdminPatch = {};
      if (body.role !== undefined) patch.role = body.role;
      if (body.is_active !== undefined) patch.isActive = body.is_active;
      const user = await updateUserAsAdmin(c.var.deps, c.var.auth.sub, c.req.valid("param").id, patch, Date.now());
      return c.json(presentAdminUser(user), 200);
    },
  )
  .post(
    "/users/:id/revoke-sessions",
    describeRoute({
      tags: TAGS,
      auth: "bearer",
      summary: "End every session of a user (refresh and access tokens)",
      description: ADMIN_ONLY,
      responses: {
        200: { description: "How many active sessions were ended", schema: z.object({ revoked: z.number().int() }) },
      },
      errors: ["user_not_found"],
    }),
    requireAuth,
    requireRole("ADMIN"),
    validate("param", UserParam),
    async (c) => {
      const revoked = await revokeUserSessions(c.var.deps, c.var.auth.sub, c.req.valid("param").id, Date.now());
      return c.json({ revoked }, 200);
    },
  )
  .post(
    "/users/:id/mfa/reset",
    describeRoute({
      tags: TAGS,
      auth: "bearer",
      summary: "Remove a user's second factors (a colleague who lost their authenticator); audited",
      description: ADMIN_ONLY,
      responses: { 204: { description: "Removed", schema: null } },
      errors: ["user_not_found"],
    }),
    requireAuth,
    requireRole("ADMIN"),
    validate("param", UserParam),
    async (c) => {
      await resetSecondFactors(c.var.deps, c.var.auth.sub, c.req.valid("param").id);
      return c.body(null, 204);
    },
  )
  .get(
    "/audit",
    describeRoute({
      tags: TAGS,
      auth: "bearer",
      summary: "Audit events, newest first (paginated)",
      description: `${ADMIN_ONLY} Events are kept for AUDIT_RETENTION_DAYS (default 180).`,
      responses: {
        200: {
          description: "A page of audit events",
          schema: z.object({ events: z.array(AuditEventSchema), next_cursor: NextCursor }),
        },
      },
      errors: ["validation_error"],
    }),
    requireAuth,
    requireRole("ADMIN"),
    validate("query", AuditQuery),
    async (c) => {
      const q = c.req.valid("query");
      const page = await findAuditEvents(c.var.deps, {
        userId: q.user_id ?? null,
        action: q.action ?? null,
        cursor: q.cursor ?? null,
        limit: q.limit,
      });
      return c.json(presentPage("events", page.items.map(presentAuditEvent), page.nextCursor), 200);
    },
  );
