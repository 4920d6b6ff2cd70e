import { Hono } from "hono";
import * as z from "zod";
import { exportAccount } from "../domain/account-export";
import { openLinkedDocument } from "../domain/kyc-document-links";
import type { AppEnv } from "../http/app-env";
import { documentResponse } from "../http/document-response";
import { AccountExportSchema } from "../http/export-schemas";
import { describeRoute } from "../http/openapi-meta";
import { validate } from "../http/validate";
import { requireAuth } from "../middleware/require-auth";

const TAGS = ["Account"];

const DocumentParam = z.object({ doc_id: z.uuid() });
const LinkQuery = z.object({
  expires: z.coerce.number().int().min(0).max(1e11).meta({ description: "Unix time in seconds, as the export gave it" }),
  sig: z.string().max(100).meta({ description: "The link's signature, as the export gave it" }),
});

export const accountExportRoutes = new Hono<AppEnv>()
  .get(
    "/me/export",
    describeRoute({
      tags: TAGS,
      summary: "Everything held about the signed-in user, as one JSON document",
      description:
        "One section per place the data is held: profile, identities, sessions, second factors (public facts only), " +
        "KYC applications (each file as a link that downloads it for 10 minutes) and audit events about the user. " +
        "At most 10 exports per user an hour (429 rate_limited with Retry-After). " +
        "Nothing secret: no password hash, token or code hash, TOTP secret or storage key. Never cached.",
      responses: { 200: { description: "The export", schema: AccountExportSchema } },
      errors: ["rate_limited"],
    }),
    requireAuth,
    async (c) => {
      const document = await exportAccount(c.var.deps, c.var.auth.sub, Date.now());
      c.header("Cache-Control", "no-store");
      return c.json(document, 200);
    },
  )
  .get(
    "/me/export/kyc-documents/:doc_id",
    describeRoute({
      tags: TAGS,
      summary: "Download one of the user's KYC files through the signed link of an export (10 minutes)",
      description:
        "No bearer token: the link itself is the permission (a browser download sends none). It names one document of one user " +
        "and expires 10 minutes after the export; a changed, expired or another user's link is 403 invalid_download_link. " +
        "Served as an attachment with the type decided from the bytes at upload, never cached.",
      responses: {
        200: { description: "The file: image/jpeg, image/png or application/pdf", schema: z.file(), contentType: "application/octet-stream" },
      },
      errors: ["invalid_download_link", "document_not_found"],
    }),
    validate("param", DocumentParam),
    validate("query", LinkQuery),
    async (c) => {
      const { doc_id } = c.req.valid("param");
      const { expires, sig } = c.req.valid("query");
      const file = await openLinkedDocument(c.var.deps, c.env.KYC_BUCKET, { documentId: doc_id, expires, sig }, Date.now());
      // The link is a credential for 10 minutes: it must not travel on in a Referer.
      return documentResponse(file, { "Referrer-Policy": "no-referrer" });
    },
  );
