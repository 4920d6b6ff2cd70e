import { Hono } from "hono";
import * as z from "zod";
import { reauthenticate, type ReauthProof } from "../domain/reauthenticate";
import type { AuthenticationResponseJSON } from "../domain/webauthn";
import type { AppEnv } from "../http/app-env";
import { describeRoute } from "../http/openapi-meta";
import { AuthenticationResponseSchema } from "../http/webauthn-schemas";
import { validate } from "../http/validate";
import { requestMeta, requireAuth } from "../middleware/require-auth";

// POST /auth/reauthenticate (step-up): the signed-in user proves who they are again, for the
// sensitive routes behind requireRecentAuth.

const TAGS = ["Step-up"];

const ReauthBody = z.union([
  z.object({ password: z.string().min(1).max(1024) }).strict(),
  z.object({ totp: z.string().trim().regex(/^\d{6}$/, "6 digits") }).strict(),
  z
    .object({
      passkey: AuthenticationResponseSchema.meta({ description: "The answer to POST /auth/reauthenticate/options" }),
      challenge_id: z.string().min(1).max(200),
    })
    .strict(),
]);

const AccessTokenSchema = z
  .object({
    access_token: z.string().meta({ description: "EdDSA-signed JWT (typ at+jwt) with a fresh auth_time, for the same session" }),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int(),
    access_expires_at: z.iso.datetime(),
  })
  .meta({ id: "AccessToken" });

export const reauthRoutes = new Hono<AppEnv>().post(
  "/reauthenticate",
  describeRoute({
    tags: TAGS,
    summary: "Prove who you are again (password, authenticator code or passkey): a new access token with a fresh auth_time",
    description:
      "The session's auth_time becomes now and its amr the method used; later refreshes carry them. " +
      "The refresh token is unchanged.",
    responses: { 200: { description: "A new access token for the same session", schema: AccessTokenSchema } },
    errors: ["validation_error", "invalid_credentials", "invalid_code", "totp_not_enrolled", "invalid_passkey", "account_disabled", "too_many_attempts"],
  }),
  requireAuth,
  validate("json", ReauthBody),
  async (c) => {
    const body = c.req.valid("json");
    const proof: ReauthProof =
      "password" in body
        ? { method: "password", password: body.password }
        : "totp" in body
          ? { method: "totp", code: body.totp }
          : { method: "passkey", challengeId: body.challenge_id, credential: body.passkey as AuthenticationResponseJSON };
    const answer = await reauthenticate(
      c.var.deps,
      { userId: c.var.auth.sub, sessionId: c.var.auth.sid },
      proof,
      requestMeta(c),
      Date.now(),
    );
    c.header("Cache-Control", "no-store");
    return c.json(answer, 200);
  },
);
