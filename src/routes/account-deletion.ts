import { Hono } from "hono";
import * as z from "zod";
import { deleteOwnAccount, deleteUserAsAdmin } from "../domain/account-deletion";
import type { AppEnv } from "../http/app-env";
import { describeRoute } from "../http/openapi-meta";
import { validate } from "../http/validate";
import { requireAuth } from "../middleware/require-auth";
import { requireRecentAuth } from "../middleware/require-recent";
import { requireRole } from "../middleware/require-role";

// Deleting an account: the user's own (DELETE /users/me) and an admin's (DELETE /admin/users/{id}).
// Both mark the account first and then erase it (src/domain/account-deletion.ts).

const ERASED =
  "Every session ends at once (refresh and access tokens); KYC files are deleted; personal data in the " +
  "database, KV and the user's Durable Object is erased; the email and phone are free to register again. " +
  "Audit events keep only the user id. If a step fails after the account was marked, the account stays " +
  "unusable and the daily housekeeping finishes the erasure.";

const UserParam = z.object({ id: z.uuid() });

export const accountDeletionRoutes = new Hono<AppEnv>().delete(
  "/me",
  describeRoute({
    tags: ["Account"],
    summary: "Delete the signed-in user's account",
    description: `${ERASED} The last active administrator cannot delete their account (409 \`last_admin\`).`,
    responses: { 204: { description: "Deleted", schema: null } },
    errors: ["last_admin"],
  }),
  requireAuth,
  requireRecentAuth,
  async (c) => {
    await deleteOwnAccount(c.var.deps, c.env.KYC_BUCKET, c.var.auth.sub, Date.now());
    return c.body(null, 204);
  },
);

export const adminDeletionRoutes = new Hono<AppEnv>().delete(
  "/users/:id",
  describeRoute({
    tags: ["Admin"],
    auth: "bearer",
    summary: "Delete a user's account (audited)",
    description: `Administrators only (the role stored now, not the token's claim). ${ERASED} The last active administrator cannot be deleted (409 \`last_admin\`).`,
    responses: { 204: { description: "Deleted", schema: null } },
    errors: ["user_not_found", "last_admin"],
  }),
  requireAuth,
  requireRole("ADMIN"),
  validate("param", UserParam),
  async (c) => {
    await deleteUserAsAdmin(c.var.deps, c.env.KYC_BUCKET, c.var.auth.sub, c.req.valid("param").id, Date.now());
    return c.body(null, 204);
  },
);
