import { Hono } from "hono";
import * as z from "zod";
import { sendPhoneOtp, verifyPhoneOtp } from "../domain/phone-otp";
import type { AppEnv } from "../http/app-env";
import { describeRoute } from "../http/openapi-meta";
import { PhoneInputField } from "../http/phone";
import { DEFAULT_DEVICE_ID, DeviceIdField, DeviceNameField, deviceOf } from "../http/device";
import { EmailField, SignUpRoleField, TokenResponseSchema } from "../http/schemas";
import { validate } from "../http/validate";
import { presentOtpSent } from "../presenters";
import { requestMeta } from "../middleware/require-auth";
import { signInAnswer } from "./sign-in-answer";

const TAGS = ["Phone"];

const SendOtpBody = z.object({ phone: PhoneInputField });

const NameField = z.string().trim().max(150).nullish();

const VerifyOtpBody = z.object({
  phone: PhoneInputField,
  otp: z.string().regex(/^\d{6}$/, "6 digits"),
  device_id: DeviceIdField.optional().meta({ description: `The device the session is bound to. Omitted: "${DEFAULT_DEVICE_ID}".` }),
  device_name: DeviceNameField.nullish(),
  first_name: NameField.meta({ description: "Used only when this sign-in creates the user" }),
  last_name: NameField.meta({ description: "Used only when this sign-in creates the user" }),
  email: EmailField.nullish().meta({
    description:
      "Used only when this sign-in creates the user; kept as an unverified address, never used to find or link an account",
  }),
  role: SignUpRoleField.optional(),
});

export const OtpSentSchema = z
  .object({
    success: z.literal(true),
    message: z.string(),
    phone: z.string().meta({ description: "The number in E.164, as the code was sent to it" }),
    expires_in_seconds: z.number().int(),
    resend_after_seconds: z.number().int(),
    otp: z.string().optional().meta({ description: "The code itself: local development only, never when deployed" }),
  })
  .meta({ id: "OtpSent" });

const PhoneSignInSchema = TokenResponseSchema.extend({
  created: z.boolean().meta({ description: "true when this sign-in created the user" }),
}).meta({ id: "PhoneSignIn" });

export const phoneRoutes = new Hono<AppEnv>()
  .post(
    "/phone/send-otp",
    describeRoute({
      tags: TAGS,
      summary: "Send a 6-digit sign-in code by SMS",
      description: "The code lives 2 minutes; one send per number per minute, and a few per hour per number and per client.",
      responses: { 200: { description: "Code sent", schema: OtpSentSchema } },
      errors: ["invalid_phone", "rate_limited", "delivery_failed"],
    }),
    validate("json", SendOtpBody),
    async (c) => {
      const sent = await sendPhoneOtp(c.var.deps, c.req.valid("json").phone, requestMeta(c), Date.now());
      return c.json(presentOtpSent(sent), 200);
    },
  )
  .post(
    "/phone/verify-otp",
    describeRoute({
      tags: TAGS,
      summary: "Sign in with the SMS code; the first successful verify creates the user",
      responses: { 200: { description: "Signed in", schema: PhoneSignInSchema } },
      errors: ["invalid_phone", "invalid_code", "account_disabled", "too_many_attempts", "rate_limited"],
    }),
    validate("json", VerifyOtpBody),
    async (c) => {
      const body = c.req.valid("json");
      const signedIn = await verifyPhoneOtp(
        c.var.deps,
        {
          phone: body.phone,
          otp: body.otp,
          device: deviceOf(body),
          profile: {
            firstName: body.first_name || null,
            lastName: body.last_name || null,
            email: body.email ?? null,
            role: body.role ?? "CUSTOMER",
          },
        },
        requestMeta(c),
        Date.now(),
      );
      return signInAnswer(c, signedIn);
    },
  );
