import { Hono } from "hono";
import * as z from "zod";
import { decideAsAdmin, findApplicationReview, listApplicationsForReview, openDocument, reviewOf } from "../domain/kyc-review";
import { KYC_STATUSES } from "../domain/kyc-values";
import type { AppEnv } from "../http/app-env";
import { documentResponse } from "../http/document-response";
import { AdminKycApplicationSchema, AdminKycListItemSchema } from "../http/kyc-schemas";
import { describeRoute } from "../http/openapi-meta";
import { CursorField, LimitField, NextCursorField } from "../http/pagination";
import { validate } from "../http/validate";
import { requireAuth } from "../middleware/require-auth";
import { requireRole } from "../middleware/require-role";
import { presentAdminListItem, presentApplicationReview, presentPage } from "../presenters";

const TAGS = ["Admin"];
const requireAdmin = requireRole("ADMIN");

const ListQuery = z.object({
  status: z.enum(KYC_STATUSES).default("PENDING"),
  cursor: CursorField.optional().meta({ description: "`next_cursor` of the previous page" }),
  limit: LimitField,
});

const ApplicationParam = z.object({ id: z.uuid() });
const DocumentParam = z.object({ id: z.uuid(), doc_id: z.uuid() });
const RejectBody = z.object({ reason: z.string().trim().min(1).max(500) }).strict();

const ApplicationResponse = z.object({ application: AdminKycApplicationSchema });

export const adminKycRoutes = new Hono<AppEnv>()
  .get(
    "/",
    describeRoute({
      tags: TAGS,
      summary: "A page of KYC applications by status, oldest first",
      description: "Cursor pagination over (submitted_at, id): pass `next_cursor` back as `cursor` until it is null.",
      responses: {
        200: {
          description: "Applications",
          schema: z.object({ applications: z.array(AdminKycListItemSchema), next_cursor: NextCursorField }),
        },
      },
    }),
    requireAuth,
    requireAdmin,
    validate("query", ListQuery),
    async (c) => {
      const { status, cursor, limit } = c.req.valid("query");
      const page = await listApplicationsForReview(c.var.deps, { status, cursor: cursor ?? null, limit });
      return c.json(presentPage("applications", page.items.map(presentAdminListItem), page.nextCursor), 200);
    },
  )
  .get(
    "/:id",
    describeRoute({
      tags: TAGS,
      summary: "One KYC application with its documents and a summary of its user",
      responses: { 200: { description: "The application", schema: ApplicationResponse } },
      errors: ["application_not_found"],
    }),
    requireAuth,
    requireAdmin,
    validate("param", ApplicationParam),
    async (c) => {
      const review = await findApplicationReview(c.var.deps, c.req.valid("param").id);
      return c.json({ application: presentApplicationReview(review) }, 200);
    },
  )
  .get(
    "/:id/documents/:doc_id",
    describeRoute({
      tags: TAGS,
      summary: "A document's bytes, streamed through the service",
      description:
        "Served with the content type decided from the bytes at upload, as an attachment, never cached " +
        "(`Cache-Control: private, no-store`) and with `X-Content-Type-Options: nosniff`.",
      responses: {
        200: { description: "The file: image/jpeg, image/png or application/pdf", schema: z.file(), contentType: "application/octet-stream" },
      },
      errors: ["document_not_found"],
    }),
    requireAuth,
    requireAdmin,
    validate("param", DocumentParam),
    async (c) => {
      const { id, doc_id } = c.req.valid("param");
      return documentResponse(await openDocument(c.var.deps, c.env.KYC_BUCKET, { applicationId: id, documentId: doc_id }));
    },
  )
  .post(
    "/:id/approve",
    describeRoute({
      tags: TAGS,
      summary: "Approve a PENDING application",
      description: "The user's KYC gate opens at once. An admin cannot decide their own application.",
      responses: { 200: { description: "The approved application", schema: ApplicationResponse } },
      errors: ["application_not_found", "already_decided"],
    }),
    requireAuth,
    requireAdmin,
    validate("param", ApplicationParam),
    async (c) => {
      const decided = await decideAsAdmin(
        c.var.deps,
        { applicationId: c.req.valid("param").id, adminId: c.var.auth.sub, decision: "APPROVED", reason: null },
        Date.now(),
      );
      return c.json({ application: presentApplicationReview(await reviewOf(c.var.deps, decided)) }, 200);
    },
  )
  .post(
    "/:id/reject",
    describeRoute({
      tags: TAGS,
      summary: "Reject a PENDING application with a reason shown to the user",
      description: "The user may submit a new application afterwards. An admin cannot decide their own application.",
      responses: { 200: { description: "The rejected application", schema: ApplicationResponse } },
      errors: ["application_not_found", "already_decided"],
    }),
    requireAuth,
    requireAdmin,
    validate("param", ApplicationParam),
    validate("json", RejectBody),
    async (c) => {
      const decided = await decideAsAdmin(
        c.var.deps,
        { applicationId: c.req.valid("param").id, adminId: c.var.auth.sub, decision: "REJECTED", reason: c.req.valid("json").reason },
        Date.now(),
      );
      return c.json({ application: presentApplicationReview(await reviewOf(c.var.deps, decided)) }, 200);
    },
  );
