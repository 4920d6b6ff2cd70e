import { Hono } from "hono";
import * as z from "zod";
import { confirmEmailChange, requestEmailChange } from "../domain/email-change";
import { setPassword } from "../domain/password-set";
import { confirmPhoneChange, requestPhoneChange } from "../domain/phone-change";
import type { AppEnv } from "../http/app-env";
import { describeRoute } from "../http/openapi-meta";
import { PhoneInputField } from "../http/phone";
import { EmailField, MessageSchema, PasswordField, UserSchema } from "../http/schemas";
import { validate } from "../http/validate";
import { requestMeta, requireAuth } from "../middleware/require-auth";
import { requireRecentAuth } from "../middleware/require-recent";
import { presentOtpSent, presentUser } from "../presenters";
import { OtpSentSchema } from "./phone";

// Account changes under /users/me: the email address, the phone number, a first password. Each
// change of a contact applies only once its code comes back from the new address or number.

const TAGS = ["Account"];

const CodeField = z.string().regex(/^\d{6}$/, "6 digits");

const EmailChangeBody = z.object({ new_email: EmailField }).strict();
const EmailConfirmBody = z.object({ code: CodeField }).strict();
const PhoneChangeBody = z.object({ phone: PhoneInputField }).strict();
const PhoneConfirmBody = z.object({ otp: CodeField }).strict();
const SetPasswordBody = z.object({ new_password: PasswordField }).strict();

const EmailChangeSentSchema = z
  .object({
    message: z.string(),
    email: z.string().meta({ description: "The new address, normalized, as the code was sent to it" }),
    expires_in_seconds: z.number().int(),
    resend_after_seconds: z.number().int(),
  })
  .meta({ id: "EmailChangeSent" });

export const accountChangeRoutes = new Hono<AppEnv>()
  .post(
    "/me/email",
    describeRoute({
      tags: TAGS,
      summary: "Send a 6-digit code to a new email address (or to a phone user's unverified one)",
      description:
        "Nothing changes until the code is confirmed. Once it is, the old address is told of the change and when. " +
        "Same cooldown and send limits as every other emailed code.",
      responses: { 202: { description: "Code sent to the new address", schema: EmailChangeSentSchema } },
      errors: ["validation_error", "email_taken", "rate_limited", "delivery_failed"],
    }),
    requireAuth,
    requireRecentAuth,
    validate("json", EmailChangeBody),
    async (c) => {
      const { deps } = c.var;
      const sent = await requestEmailChange(deps, c.var.auth.sub, c.req.valid("json").new_email, requestMeta(c), Date.now());
      return c.json(
        {
          message: "A confirmation code was sent to the new address",
          email: sent.email,
          expires_in_seconds: deps.config.emailCodeTtl,
          resend_after_seconds: deps.config.resendCooldown,
        },
        202,
      );
    },
  )
  .post(
    "/me/email/confirm",
    describeRoute({
      tags: TAGS,
      summary: "Confirm the new email address with its code; the user's address changes now",
      description: "409 `email_taken` when another account took the address meanwhile (nothing is changed).",
      responses: { 200: { description: "The user, with the new address verified", schema: UserSchema } },
      errors: ["validation_error", "invalid_code", "too_many_attempts", "email_taken", "rate_limited"],
    }),
    requireAuth,
    validate("json", EmailConfirmBody),
    async (c) => {
      const user = await confirmEmailChange(c.var.deps, c.var.auth.sub, c.req.valid("json").code, requestMeta(c), Date.now());
      return c.json(presentUser(user), 200);
    },
  )
  .post(
    "/me/phone",
    describeRoute({
      tags: TAGS,
      summary: "Send a 6-digit code by SMS to a number to add or to change to",
      description: "409 `phone_taken` when another account has proved the number. Same cooldown and send limits as the phone sign-in.",
      responses: { 200: { description: "Code sent", schema: OtpSentSchema } },
      errors: ["validation_error", "invalid_phone", "phone_taken", "rate_limited", "delivery_failed"],
    }),
    requireAuth,
    validate("json", PhoneChangeBody),
    async (c) => {
      const sent = await requestPhoneChange(c.var.deps, c.var.auth.sub, c.req.valid("json").phone, requestMeta(c), Date.now());
      return c.json(presentOtpSent(sent), 200);
    },
  )
  .post(
    "/me/phone/confirm",
    describeRoute({
      tags: TAGS,
      summary: "Confirm the number with its SMS code; it becomes the user's, proved",
      description:
        "An account that only claimed the number (never proved it) loses it, as at phone sign-in. " +
        "409 `phone_taken` when another account proved it meanwhile (nothing is changed).",
      responses: { 200: { description: "The user, with the number proved", schema: UserSchema } },
      errors: ["validation_error", "invalid_code", "too_many_attempts", "phone_taken", "rate_limited"],
    }),
    requireAuth,
    validate("json", PhoneConfirmBody),
    async (c) => {
      const user = await confirmPhoneChange(c.var.deps, c.var.auth.sub, c.req.valid("json").otp, requestMeta(c), Date.now());
      return c.json(presentUser(user), 200);
    },
  )
  .post(
    "/me/password",
    describeRoute({
      tags: TAGS,
      summary: "Set a first password on an account that has none (phone, Google, passkey sign-ups)",
      description:
        "Under the password policy. 409 `password_exists` when the account has one (use POST /auth/password/change). " +
        "No session ends: this adds a way in.",
      responses: { 200: { description: "Password set", schema: MessageSchema } },
      errors: ["validation_error", "weak_password", "password_exists"],
    }),
    requireAuth,
    requireRecentAuth,
    validate("json", SetPasswordBody),
    async (c) => {
      await setPassword(c.var.deps, { userId: c.var.auth.sub, sessionId: c.var.auth.sid }, c.req.valid("json").new_password, Date.now());
      return c.json({ message: "Password set" }, 200);
    },
  );
