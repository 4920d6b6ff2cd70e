import { Hono } from "hono";
import * as z from "zod";
import { verifyMfa, type MfaVerifyInput } from "../domain/mfa-verify";
import { passkeyStepOptions } from "../domain/passkey-sign-in";
import {
  confirmTotp,
  disableTotp,
  mfaStatus,
  regenerateRecoveryCodes,
  startTotpEnrolment,
} from "../domain/second-factors";
import type { AuthenticationResponseJSON } from "../domain/webauthn";
import type { AppEnv } from "../http/app-env";
import { describeRoute } from "../http/openapi-meta";
import { TokenResponseSchema } from "../http/schemas";
import { validate } from "../http/validate";
import { AuthenticationResponseSchema, RequestOptionsSchema } from "../http/webauthn-schemas";
import { requestMeta, requireAuth } from "../middleware/require-auth";
import { requireRecentAuth } from "../middleware/require-recent";
import { currentUser } from "../middleware/require-role";
import { signInAnswer } from "./sign-in-answer";

// Second factors: the signed-in user's own (under /users/me/mfa) and the second step of a sign-in
// (POST /auth/mfa/verify, and its passkey options).

const TAGS = ["Second factors"];

const MfaStatusSchema = z
  .object({
    totp: z.boolean(),
    passkeys: z.number().int(),
    recovery_codes_left: z.number().int(),
    required: z.boolean().meta({ description: "The user's role requires a second factor (MFA_REQUIRED_ROLES)" }),
  })
  .meta({ id: "MfaStatus" });

const TotpEnrolmentSchema = z
  .object({
    secret: z.string().meta({ description: "Base32, for typing into an app by hand" }),
    otpauth_uri: z.string(),
    qr_svg: z.string().meta({ description: "The otpauth URI as an SVG QR code" }),
  })
  .meta({ id: "TotpEnrolment" });

const RecoveryCodesSchema = z
  .object({ recovery_codes: z.array(z.string()).meta({ description: "Ten single-use codes, shown this once" }) })
  .meta({ id: "RecoveryCodes" });

const CodeBody = z.object({ code: z.string().trim().min(1).max(64) }).strict();

const MfaTokenField = z.string().min(1).max(200);

const MfaVerifyBody = z.discriminatedUnion("method", [
  z
    .object({
      mfa_token: MfaTokenField,
      method: z.enum(["totp", "recovery_code"]),
      code: z.string().trim().min(1).max(64),
    })
    .strict(),
  z
    .object({
      mfa_token: MfaTokenField,
      method: z.literal("passkey"),
      credential: AuthenticationResponseSchema.meta({ description: "An answer to POST /auth/mfa/passkey/options" }),
    })
    .strict(),
]);

const MfaPasskeyOptionsBody = z.object({ mfa_token: MfaTokenField }).strict();

export const mfaUserRoutes = new Hono<AppEnv>()
  .get(
    "/me/mfa",
    describeRoute({
      tags: TAGS,
      summary: "The user's second factors",
      responses: { 200: { description: "Status", schema: MfaStatusSchema } },
    }),
    requireAuth,
    async (c) => {
      const status = await mfaStatus(c.var.deps, await currentUser(c));
      c.header("Cache-Control", "no-store");
      return c.json(status, 200);
    },
  )
  .post(
    "/me/mfa/totp",
    describeRoute({
      tags: TAGS,
      summary: "Begin enrolling an authenticator app (not active until confirmed)",
      responses: { 200: { description: "The secret, its otpauth URI and QR code", schema: TotpEnrolmentSchema } },
      errors: ["mfa_already_enrolled"],
    }),
    requireAuth,
    requireRecentAuth,
    async (c) => {
      const enrolment = await startTotpEnrolment(c.var.deps, await currentUser(c), Date.now());
      c.header("Cache-Control", "no-store");
      return c.json(enrolment, 200);
    },
  )
  .post(
    "/me/mfa/totp/confirm",
    describeRoute({
      tags: TAGS,
      summary: "Confirm the app with a first code: TOTP is on; returns the recovery codes",
      responses: { 200: { description: "Recovery codes, shown once", schema: RecoveryCodesSchema } },
      errors: ["validation_error", "invalid_code"],
    }),
    requireAuth,
    validate("json", CodeBody),
    async (c) => {
      const codes = await confirmTotp(c.var.deps, c.var.auth.sub, c.req.valid("json").code, Date.now());
      c.header("Cache-Control", "no-store");
      return c.json(codes, 200);
    },
  )
  .delete(
    "/me/mfa/totp",
    describeRoute({
      tags: TAGS,
      summary: "Remove the authenticator app and the recovery codes",
      responses: { 204: { description: "Removed", schema: null } },
    }),
    requireAuth,
    requireRecentAuth,
    async (c) => {
      await disableTotp(c.var.deps, c.var.auth.sub);
      return c.body(null, 204);
    },
  )
  .post(
    "/me/mfa/recovery-codes",
    describeRoute({
      tags: TAGS,
      summary: "A new set of recovery codes; the old set stops working",
      responses: { 200: { description: "Recovery codes, shown once", schema: RecoveryCodesSchema } },
      errors: ["not_found"],
    }),
    requireAuth,
    requireRecentAuth,
    async (c) => {
      const codes = await regenerateRecoveryCodes(c.var.deps, c.var.auth.sub, Date.now());
      c.header("Cache-Control", "no-store");
      return c.json(codes, 200);
    },
  );

export const mfaAuthRoutes = new Hono<AppEnv>()
  .post(
    "/mfa/verify",
    describeRoute({
      tags: TAGS,
      summary: "Finish a sign-in that answered mfa_required, with a TOTP or recovery code, or a passkey",
      responses: { 200: { description: "Signed in", schema: TokenResponseSchema } },
      errors: ["validation_error", "invalid_code", "invalid_passkey", "invalid_mfa_token", "too_many_attempts"],
    }),
    validate("json", MfaVerifyBody),
    async (c) => {
      const body = c.req.valid("json");
      const input: MfaVerifyInput =
        body.method === "passkey"
          ? { mfaToken: body.mfa_token, method: "passkey", credential: body.credential as AuthenticationResponseJSON }
          : { mfaToken: body.mfa_token, method: body.method, code: body.code };
      const signedIn = await verifyMfa(c.var.deps, input, requestMeta(c), Date.now());
      return signInAnswer(c, signedIn);
    },
  )
  .post(
    "/mfa/passkey/options",
    describeRoute({
      tags: TAGS,
      summary: "Request options for finishing a sign-in with one of the user's passkeys",
      description: "The challenge is bound to the mfa_token; send the answer to POST /auth/mfa/verify with method passkey.",
      responses: { 200: { description: "PublicKeyCredentialRequestOptionsJSON", schema: RequestOptionsSchema } },
      errors: ["validation_error", "invalid_mfa_token"],
    }),
    validate("json", MfaPasskeyOptionsBody),
    async (c) => {
      const options = await passkeyStepOptions(c.var.deps, c.req.valid("json").mfa_token, Date.now());
      c.header("Cache-Control", "no-store");
      return c.json(options, 200);
    },
  );
