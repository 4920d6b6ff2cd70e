import { Hono } from "hono";
import * as z from "zod";
import { changePassword } from "../domain/password-change";
import { confirmPasswordReset, requestPasswordReset } from "../domain/password-reset";
import type { AppEnv } from "../http/app-env";
import { describeRoute } from "../http/openapi-meta";
import { EmailField, MessageSchema, PasswordField } from "../http/schemas";
import { validate } from "../http/validate";
import { requestMeta, requireAuth } from "../middleware/require-auth";
import { requireRecentAuth } from "../middleware/require-recent";

const TAGS = ["Password"];

const ResetRequestBody = z.object({ email: EmailField });

const ResetConfirmBody = z.union([
  z.object({ token: z.string().min(1).max(200), new_password: PasswordField }).strict(),
  z.object({ email: EmailField, code: z.string().regex(/^\d{6}$/, "6 digits"), new_password: PasswordField }).strict(),
]);

const ChangeBody = z.object({ current_password: z.string().min(1).max(1024), new_password: PasswordField });

export const passwordRoutes = new Hono<AppEnv>()
  .post(
    "/password-reset/request",
    describeRoute({
      tags: TAGS,
      summary: "Email a reset code and link (same answer whether or not the account exists)",
      responses: { 202: { description: "Accepted", schema: MessageSchema } },
      errors: ["rate_limited"],
    }),
    validate("json", ResetRequestBody),
    async (c) => {
      await requestPasswordReset(c.var.deps, c.req.valid("json").email, requestMeta(c), Date.now());
      return c.json({ message: "If an account exists for this address, a password reset email was sent" }, 202);
    },
  )
  .post(
    "/password-reset/confirm",
    describeRoute({
      tags: TAGS,
      summary: "Set a new password with the link token, or with email and code; every session ends",
      responses: { 200: { description: "Password reset", schema: MessageSchema } },
      errors: ["invalid_token", "invalid_code", "weak_password", "too_many_attempts"],
    }),
    validate("json", ResetConfirmBody),
    async (c) => {
      const body = c.req.valid("json");
      const proof = "token" in body ? { token: body.token } : { email: body.email, code: body.code };
      await confirmPasswordReset(c.var.deps, proof, body.new_password, Date.now());
      return c.json({ message: "Password has been reset. Please log in again." }, 200);
    },
  )
  .post(
    "/password/change",
    describeRoute({
      tags: TAGS,
      summary: "Change the password; every other session ends",
      responses: { 200: { description: "Password changed", schema: MessageSchema } },
      errors: ["invalid_credentials", "weak_password", "too_many_attempts"],
    }),
    requireAuth,
    requireRecentAuth,
    validate("json", ChangeBody),
    async (c) => {
      const body = c.req.valid("json");
      await changePassword(
        c.var.deps,
        { userId: c.var.auth.sub, sessionId: c.var.auth.sid },
        { currentPassword: body.current_password, newPassword: body.new_password },
        Date.now(),
      );
      return c.json({ message: "Password changed successfully" }, 200);
    },
  );
