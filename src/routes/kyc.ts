import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import * as z from "zod";
import type { Config } from "../config";
import { kycStatusOf } from "../domain/kyc";
import { KycSubmission, refuseIfOpen, withUploadSlot } from "../domain/kyc-submission";
import {
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  WEBHOOK_TOLERANCE_SECONDS,
  applyProviderEvent,
  verifyWebhookSignature,
} from "../domain/kyc-webhook";
import type { AppEnv } from "../http/app-env";
import { AppError, type FieldError } from "../errors";
import { multipartContentType, readKycForm } from "../http/kyc-form";
import { KycApplicationSchema } from "../http/kyc-schemas";
import { describeRoute } from "../http/openapi-meta";
import { UserSchema } from "../http/schemas";
import { requireAuth } from "../middleware/require-auth";
import { requireKycApproved } from "../middleware/require-kyc";
import { currentUser, requireRole } from "../middleware/require-role";
import { DOCUMENT_TYPES, USER_KYC_STATUSES } from "../domain/kyc-values";
import { presentApplication, presentKycStatus, presentUser } from "../presenters";

/** Three files at the limit plus room for the multipart framing and the text field. */
export function kycUploadLimit(config: Config): number {
  return 3 * config.kyc.maxFileBytes + 64 * 1024;
}

// app.ts exempts this route from the 1 MiB limit; this one replaces it. A declared length over it is
// refused before a byte is read; a body without one is bounded while it streams (readKycForm).
const uploadLimit = createMiddleware<AppEnv>(async (c, next) => {
  const declared = Number(c.req.header("Content-Length"));
  if (declared > kycUploadLimit(c.var.deps.config)) throw new AppError("payload_too_large");
  await next();
});

const file = (description: string) => z.file().meta({ description });

// Documents the form in /openapi.json; the body itself is read as a stream by readKycForm.
const SubmitForm = z
  .object({
    document_type: z.enum(DOCUMENT_TYPES),
    front: file("Front of the document: JPEG, PNG or PDF, as decided from its bytes"),
    back: file("Back of the document (optional)").optional(),
    selfie: file("A selfie holding the document (optional)").optional(),
  })
  .strict();

const StatusSchema = z.object({
  status: z.enum(USER_KYC_STATUSES),
  application: KycApplicationSchema.nullable(),
  rejection_reason: z.string().nullable(),
});

const WebhookEvent = z.object({
  id: z.string().min(1).max(200).meta({ description: "The provider's event id; an id seen before changes nothing" }),
  type: z.enum(["kyc.approved", "kyc.rejected"]),
  application_id: z.uuid(),
  reason: z.string().trim().min(1).max(500).optional(),
});

const JSON_MEDIA = /^application\/([\w.-]+\+)?json$/i;

function issuesToErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join(".") || "(root)", message: issue.message }));
}

export const kycRoutes = new Hono<AppEnv>()
  .post(
    "/submit",
    describeRoute({
      tags: ["KYC"],
      summary: "Submit identity documents for verification",
      description:
        "multipart/form-data with `document_type` and the files `front` (required), `back` and `selfie`. " +
        "Each file is at most KYC_MAX_FILE_BYTES (default 10 MiB) and must be a JPEG, PNG or PDF judged by its " +
        "bytes; the declared type and file name are ignored. A body over 3 × KYC_MAX_FILE_BYTES + 64 KiB is " +
        "refused with 413 before it is read; the body is read as it streams, and a file passing the limit stops the " +
        "read at once. One upload in flight per user: another one meanwhile is 429 with Retry-After. One PENDING or " +
        "APPROVED application per user: after a rejection the user may submit again.",
      form: SubmitForm,
      responses: { 201: { description: "The application, PENDING", schema: z.object({ application: KycApplicationSchema }) } },
      errors: ["invalid_document", "kyc_application_open", "rate_limited", "payload_too_large", "unsupported_content_type"],
    }),
    requireAuth,
    uploadLimit,
    async (c) => {
      const { deps } = c.var;
      const user = await currentUser(c);
      const contentType = multipartContentType(c.req.header("Content-Type"));
      const limits = { maxFileBytes: deps.config.kyc.maxFileBytes, bodyBytes: kycUploadLimit(deps.config) };
      const application = await withUploadSlot(deps, user.id, Date.now(), async () => {
        await refuseIfOpen(deps.db, user.id);
        const submission = new KycSubmission(deps, c.env.KYC_BUCKET, user.id, Date.now());
        try {
          const documentType = await readKycForm(c.req.raw.body, contentType, limits, submission);
          return await submission.commit(documentType);
        } catch (err) {
          await submission.abandon();
          throw err;
        }
      });
      return c.json({ application: presentApplication(application) }, 201);
    },
  )
  .get(
    "/status",
    describeRoute({
      tags: ["KYC"],
      summary: "The signed-in user's KYC status and latest application",
      responses: { 200: { description: "NOT_SUBMITTED with nulls when there is no application", schema: StatusSchema } },
    }),
    requireAuth,
    async (c) => {
      return c.json(presentKycStatus(await kycStatusOf(c.var.deps, c.var.auth.sub)), 200);
    },
  )
  .post(
    "/webhook",
    describeRoute({
      tags: ["KYC"],
      summary: "Decision from the verification provider (signed, no bearer token)",
      description:
        `Headers: \`${TIMESTAMP_HEADER}\` (unix seconds) and \`${SIGNATURE_HEADER}\`: ` +
        "`sha256=<hex HMAC-SHA256(KYC_WEBHOOK_SECRET, \"<timestamp>.<raw body>\")>`, computed over the body's " +
        `bytes exactly as sent. The timestamp must be within ${WEBHOOK_TOLERANCE_SECONDS} s of the server's clock, ` +
        "either way. An event id seen before answers 200 with `duplicate: true` and changes nothing; an event for " +
        "an application already decided is recorded and answers 200 with `applied: false`.",
      json: WebhookEvent,
      responses: {
        200: {
          description: "Received",
          schema: z.object({ received: z.literal(true), duplicate: z.boolean(), applied: z.boolean() }),
        },
      },
      errors: ["invalid_signature", "application_not_found", "provider_not_configured"],
    }),
    async (c) => {
      const secret = c.var.deps.config.kyc.webhookSecret;
      if (!secret) throw new AppError("provider_not_configured", { detail: "The KYC verification provider is not configured" });
      const raw = new Uint8Array(await c.req.arrayBuffer());
      const signed = await verifyWebhookSignature(
        secret,
        { timestamp: c.req.header(TIMESTAMP_HEADER), signature: c.req.header(SIGNATURE_HEADER) },
        raw,
        Date.now(),
      );
      if (!signed) throw new AppError("invalid_signature");
      const mediaType = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim();
      if (!JSON_MEDIA.test(mediaType)) throw new AppError("unsupported_content_type", { detail: "Send the event as application/json" });
      let body: unknown;
      try {
        body = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(raw));
      } catch {
        throw new AppError("invalid_json");
      }
      const parsed = WebhookEvent.safeParse(body);
      if (!parsed.success) throw new AppError("validation_error", { errors: issuesToErrors(parsed.error) });
      const event = parsed.data;
      const result = await applyProviderEvent(
        c.var.deps,
        { id: event.id, type: event.type, applicationId: event.application_id, reason: event.reason ?? null },
        Date.now(),
      );
      return c.json({ received: true as const, ...result }, 200);
    },
  );

export const providerRoutes = new Hono<AppEnv>().get(
  "/dashboard",
  describeRoute({
    tags: ["Provider"],
    summary: "The provider dashboard: an example of a route gated on approved KYC",
    description: "Reads role and KYC status as stored now: an approval opens it at once, with the same access token.",
    responses: {
      200: { description: "Welcome", schema: z.object({ message: z.string(), user: UserSchema }) },
    },
  }),
  requireAuth,
  requireRole("PROVIDER"),
  requireKycApproved,
  async (c) => {
    const user = await currentUser(c);
    return c.json({ message: "Welcome to the provider dashboard", user: presentUser(user) }, 200);
  },
);
