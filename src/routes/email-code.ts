import { Hono } from "hono";
import * as z from "zod";
import { sendEmailSignInCode, verifyEmailSignInCode } from "../domain/email-code";
import type { AppEnv } from "../http/app-env";
import { DeviceIdField, DeviceNameField, deviceOf } from "../http/device";
import { describeRoute } from "../http/openapi-meta";
import { EmailField, MessageSchema, TokenResponseSchema } from "../http/schemas";
import { validate } from "../http/validate";
import { requestMeta } from "../middleware/require-auth";
import { signInAnswer } from "./sign-in-answer";

const TAGS = ["Email sign-in code"];

const SendCodeBody = z.object({ email: EmailField });

const VerifyCodeBody = z.object({
  email: EmailField,
  code: z.string().regex(/^\d{6}$/, "6 digits"),
  device_id: DeviceIdField,
  device_name: DeviceNameField.optional(),
});

export const emailCodeRoutes = new Hono<AppEnv>()
  .post(
    "/email/send-code",
    describeRoute({
      tags: TAGS,
      summary: "Email a 6-digit sign-in code to an account's verified address (same answer for every address)",
      description:
        "Only an active account whose email is verified gets a code; the answer, its status and its timing are the same for any " +
        "other address. The code lives 10 minutes; one send per address per minute, and a few per hour per address and per client.",
      responses: { 202: { description: "Accepted", schema: MessageSchema } },
      errors: ["validation_error", "rate_limited"],
    }),
    validate("json", SendCodeBody),
    async (c) => {
      await sendEmailSignInCode(c.var.deps, c.req.valid("json").email, requestMeta(c), Date.now());
      return c.json({ message: "If this address belongs to an account with a verified email, a sign-in code was sent to it" }, 202);
    },
  )
  .post(
    "/email/verify-code",
    describeRoute({
      tags: TAGS,
      summary: "Sign in with the emailed code (or get the second-factor challenge)",
      responses: { 200: { description: "Signed in, or mfa_required with an mfa_token", schema: TokenResponseSchema } },
      errors: ["validation_error", "invalid_code", "account_disabled", "too_many_attempts", "rate_limited"],
    }),
    validate("json", VerifyCodeBody),
    async (c) => {
      const body = c.req.valid("json");
      const signedIn = await verifyEmailSignInCode(
        c.var.deps,
        { email: body.email, code: body.code, device: deviceOf(body) },
        requestMeta(c),
        Date.now(),
      );
      return signInAnswer(c, signedIn);
    },
  );
