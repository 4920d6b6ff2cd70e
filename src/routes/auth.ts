import { Hono } from "hono";
import * as z from "zod";
import { loginWithPassword } from "../domain/login";
import { lookUpVerificationLink, register, resendVerification, verifyEmailCode, verifyEmailLink } from "../domain/registration";
import { SIGN_UP_ROLES } from "../domain/roles";
import { logout, refresh, revokeAllSessions } from "../domain/session-tokens";
import type { AppEnv } from "../http/app-env";
import { AppError } from "../errors";
import { describeRoute } from "../http/openapi-meta";
import { PhoneField } from "../http/phone";
import { DEFAULT_DEVICE_ID, DeviceIdField, DeviceNameField, deviceOf } from "../http/device";
import {
  DeviceTokenField,
  EmailField,
  MessageSchema,
  PasswordField,
  TokenPairSchema,
  TokenResponseSchema,
  UsernameField,
} from "../http/schemas";
import { validate } from "../http/validate";
import { requestMeta, requireAuth } from "../middleware/require-auth";
import { signInAnswer } from "./sign-in-answer";
import { presentPendingSignUp } from "../presenters";

const TAGS = ["Email and password"];

const RegisterBody = z.object({
  email: EmailField,
  password: PasswordField,
  full_name: z.string().trim().min(1).max(150),
  username: UsernameField.nullish(),
  phone: PhoneField.nullish(),
  role: z.enum(SIGN_UP_ROLES).default("CUSTOMER"),
});

const VerifyEmailBody = z.object({
  email: EmailField,
  code: z.string().regex(/^\d{6}$/, "6 digits"),
  device_id: DeviceIdField.optional().meta({
    description: `The device the new session is bound to; refresh must send the same. Omitted: "${DEFAULT_DEVICE_ID}".`,
  }),
  device_name: DeviceNameField.optional(),
});

// A missing or mangled link token answers 400 `invalid_token`, not a validation error.
const VerifyLinkQuery = z.object({ token: z.string().optional() });

const VerifyLinkBody = z.object({
  token: z.string().optional(),
  password: z.string().min(1).max(1024),
  device_id: DeviceIdField.optional().meta({
    description: `The device the new session is bound to; refresh must send the same. Omitted: "${DEFAULT_DEVICE_ID}".`,
  }),
  device_name: DeviceNameField.optional(),
});

const LinkLookupSchema = z.object({ email: z.email(), expires_at: z.iso.datetime() });

// A sign-up whose username was taken before verification still succeeds, without it, and says so.
const VerifiedResponseSchema = TokenResponseSchema.extend({
  notices: z
    .array(z.object({ code: z.enum(["username_taken"]), detail: z.string() }))
    .optional()
    .meta({ description: "Present when part of the sign-up could not be kept (e.g. a username taken meanwhile)" }),
});

function linkToken(token: string | undefined): string {
  if (!token || token.length > 200) throw new AppError("invalid_token");
  return token;
}

const EmailBody = z.object({ email: EmailField });

const LoginBody = z.object({
  email: EmailField,
  password: z.string().min(1).max(1024),
  device_id: DeviceIdField,
  device_name: DeviceNameField.optional(),
  device_token: DeviceTokenField.optional(),
});

const RefreshBody = z.object({ refresh_token: z.string().min(1).max(512), device_id: DeviceIdField });
const LogoutBody = z.object({ refresh_token: z.string().min(1).max(512) });

const RevokedSchema = z.object({ message: z.string(), revoked: z.number().int() });

export const authRoutes = new Hono<AppEnv>()
  .post(
    "/register",
    describeRoute({
      tags: TAGS,
      summary: "Start a pending registration; a code and a link are emailed",
      responses: { 202: { description: "Verification email sent", schema: MessageSchema } },
      errors: ["validation_error", "weak_password", "email_taken", "username_taken", "rate_limited", "delivery_failed"],
    }),
    validate("json", RegisterBody),
    async (c) => {
      const body = c.req.valid("json");
      const email = await register(
        c.var.deps,
        {
          email: body.email,
          password: body.password,
          fullName: body.full_name,
          username: body.username ?? null,
          phone: body.phone ?? null,
          role: body.role,
        },
        requestMeta(c),
        Date.now(),
      );
      return c.json({ message: `Verification email sent to ${email}` }, 202);
    },
  )
  .post(
    "/verify-email",
    describeRoute({
      tags: TAGS,
      summary: "Verify the email with the 6-digit code; creates the user and signs in",
      responses: { 200: { description: "Signed in", schema: VerifiedResponseSchema } },
      errors: ["validation_error", "invalid_code", "too_many_attempts", "rate_limited"],
    }),
    validate("json", VerifyEmailBody),
    async (c) => {
      const body = c.req.valid("json");
      const signedIn = await verifyEmailCode(c.var.deps, { email: body.email, code: body.code, device: deviceOf(body) }, requestMeta(c), Date.now());
      return signInAnswer(c, signedIn);
    },
  )
  .get(
    "/verify",
    describeRoute({
      tags: TAGS,
      summary: "Look up the emailed link (changes nothing: mail scanners open links)",
      responses: { 200: { description: "The pending sign-up the link stands for", schema: LinkLookupSchema } },
      errors: ["invalid_token"],
    }),
    validate("query", VerifyLinkQuery),
    async (c) => {
      const token = linkToken(c.req.valid("query").token);
      const found = await lookUpVerificationLink(c.var.deps, token, Date.now());
      return c.json(presentPendingSignUp(found), 200);
    },
  )
  .post(
    "/verify",
    describeRoute({
      tags: TAGS,
      summary: "Activate the sign-up from the emailed link and its password; creates the user and signs in",
      responses: { 200: { description: "Verified and signed in", schema: VerifiedResponseSchema.extend({ message: z.string() }) } },
      errors: ["validation_error", "invalid_token", "invalid_credentials", "too_many_attempts", "rate_limited"],
    }),
    validate("json", VerifyLinkBody),
    async (c) => {
      const body = c.req.valid("json");
      const signedIn = await verifyEmailLink(
        c.var.deps,
        { token: linkToken(body.token), password: body.password, device: deviceOf(body) },
        requestMeta(c),
        Date.now(),
      );
      return signInAnswer(c, signedIn, { message: "Email verified successfully. You can now log in." });
    },
  )
  .post(
    "/resend-verification",
    describeRoute({
      tags: TAGS,
      summary: "Send a new code and link if a registration is pending (same answer either way)",
      responses: { 202: { description: "Accepted", schema: MessageSchema } },
      errors: ["validation_error", "rate_limited"],
    }),
    validate("json", EmailBody),
    async (c) => {
      await resendVerification(c.var.deps, c.req.valid("json").email, requestMeta(c), Date.now());
      return c.json({ message: "If a registration is pending for this address, a new verification email was sent" }, 202);
    },
  )
  .post(
    "/login",
    describeRoute({
      tags: TAGS,
      summary: "Sign in with email and password",
      responses: { 200: { description: "Signed in", schema: TokenResponseSchema } },
      errors: ["validation_error", "invalid_credentials", "email_not_verified", "account_disabled", "too_many_attempts", "rate_limited"],
    }),
    validate("json", LoginBody),
    async (c) => {
      const body = c.req.valid("json");
      const signedIn = await loginWithPassword(
        c.var.deps,
        {
          email: body.email,
          password: body.password,
          device: deviceOf(body),
          deviceToken: body.device_token ?? null,
        },
        requestMeta(c),
        Date.now(),
      );
      return signInAnswer(c, signedIn);
    },
  )
  .post(
    "/refresh",
    describeRoute({
      tags: TAGS,
      summary: "Rotate the refresh token; the old one is spent",
      responses: { 200: { description: "A new pair", schema: TokenPairSchema } },
      errors: ["validation_error", "invalid_refresh_token", "refresh_token_reused"],
    }),
    validate("json", RefreshBody),
    async (c) => {
      const body = c.req.valid("json");
      const tokens = await refresh(c.var.deps, { refreshToken: body.refresh_token, deviceId: body.device_id }, Date.now());
      return c.json(tokens, 200);
    },
  )
  .post(
    "/logout",
    describeRoute({
      tags: TAGS,
      summary: "End the session of a refresh token (idempotent)",
      responses: { 200: { description: "Logged out", schema: MessageSchema } },
      errors: ["validation_error"],
    }),
    validate("json", LogoutBody),
    async (c) => {
      await logout(c.var.deps, c.req.valid("json").refresh_token, Date.now());
      return c.json({ message: "Logged out successfully" }, 200);
    },
  )
  .post(
    "/logout-all",
    describeRoute({
      tags: TAGS,
      summary: "End every session of the user, refresh and access tokens alike",
      responses: { 200: { description: "Revoked", schema: RevokedSchema } },
    }),
    requireAuth,
    async (c) => {
      const revoked = await revokeAllSessions(c.var.deps, c.var.auth.sub, Date.now());
      return c.json({ message: "All sessions revoked", revoked }, 200);
    },
  );
