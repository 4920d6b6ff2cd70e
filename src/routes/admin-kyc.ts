import { Hono } from "hono";
import { z } from "zod";
import { decodeCursor, encodeCursor } from "../domain/cursor";
import { DOCUMENT_MEDIA_TYPES, decideAsAdmin, type DocumentMediaType } from "../domain/kyc";
import type { AppEnv } from "../http/app-env";
import { AppError } from "../errors";
import { AdminKycApplicationSchema, AdminKycListItemSchema } from "../http/kyc-schemas";
import { describeRoute } from "../http/openapi-meta";
import { validate } from "../http/validate";
import { requireAuth } from "../middleware/require-auth";
import { requireRole } from "../middleware/require-role";
import type { Db } from "../storage/db";
import { findApplicationRow, findDocument, findUserSummary, listApplications, withDocuments, type KycApplication } from "../storage/kyc";
import { getKycObject } from "../storage/kyc-objects";
import { presentAdminApplication, presentAdminListItem, presentPage } from "../presenters";
import { KYC_STATUSES } from "../domain/kyc-values";

const TAGS = ["Admin"];
const requireAdmin = requireRole("ADMIN");

const ListQuery = z.object({
  status: z.enum(KYC_STATUSES).default("PENDING"),
  cursor: z.string().max(512).optional().meta({ description: "`next_cursor` of the previous page" }),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

const ApplicationParam = z.object({ id: z.uuid() });
const DocumentParam = z.object({ id: z.uuid(), doc_id: z.uuid() });
const RejectBody = z.object({ reason: z.string().trim().min(1).max(500) }).strict();

const ApplicationResponse = z.object({ application: AdminKycApplicationSchema });

async function adminView(db: Db, application: KycApplication) {
  const [full, user] = await Promise.all([withDocuments(db, application), findUserSummary(db, application.userId)]);
  if (!user) throw new AppError("application_not_found");
  return { application: presentAdminApplication(full, user) };
}

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
          schema: z.object({ applications: z.array(AdminKycListItemSchema), next_cursor: z.string().nullable() }),
        },
      },
    }),
    requireAuth,
    requireAdmin,
    validate("query", ListQuery),
    async (c) => {
      const { status, cursor, limit } = c.req.valid("query");
      const position = cursor ? decodeCursor(cursor) : undefined;
      const after = position && { submittedAt: position.at.getTime(), id: position.id };
      const rows = await listApplications(c.var.deps.db, { status, after, limit: limit + 1 });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      const nextCursor = rows.length > limit && last ? encodeCursor({ at: last.submittedAt, id: last.id }) : null;
      return c.json(presentPage("applications", page.map(presentAdminListItem), nextCursor), 200);
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
      const application = await findApplicationRow(c.var.deps.db, c.req.valid("param").id);
      if (!application) throw new AppError("application_not_found");
      return c.json(await adminView(c.var.deps.db, application), 200);
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
      const document = await findDocument(c.var.deps.db, id, doc_id);
      if (!document) throw new AppError("document_not_found");
      const object = await getKycObject(c.env.KYC_BUCKET, document.r2Key);
      if (!object) {
        console.error(JSON.stringify({ level: "error", event: "kyc_object_missing", document_id: document.id }));
        throw new AppError("document_not_found");
      }
      const ext = DOCUMENT_MEDIA_TYPES[document.contentType as DocumentMediaType] ?? "bin";
      return new Response(object.body, {
        status: 200,
        headers: {
          "Content-Type": document.contentType,
          "Content-Length": String(object.size),
          "Content-Disposition": `attachment; filename="${document.id}.${ext}"`,
          "Cache-Control": "private, no-store",
          "X-Content-Type-Options": "nosniff",
          // Opened in a tab anyway, a document can run nothing.
          "Content-Security-Policy": "default-src 'none'; sandbox",
        },
      });
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
      return c.json(await adminView(c.var.deps.db, decided), 200);
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
      return c.json(await adminView(c.var.deps.db, decided), 200);
    },
  );
