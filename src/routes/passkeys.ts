import { Hono } from "hono";
import * as z from "zod";
import { passkeySignInOptions, reauthenticationOptions, signInWithPasskey } from "../domain/passkey-sign-in";
import {
  addPasskey,
  passkeyRegistrationOptions,
  removePasskey,
  renameUserPasskey,
  userPasskeys,
} from "../domain/passkeys";
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "../domain/webauthn";
import type { AppEnv } from "../http/app-env";
import { DeviceIdField, DeviceNameField, deviceOf } from "../http/device";
import { describeRoute } from "../http/openapi-meta";
import { TokenResponseSchema } from "../http/schemas";
import { validate } from "../http/validate";
import {
  AuthenticationResponseSchema,
  ChallengedRequestOptionsSchema,
  CreationOptionsSchema,
  PasskeyNameField,
  PasskeySchema,
  RegistrationResponseSchema,
} from "../http/webauthn-schemas";
import { requestMeta, requireAuth } from "../middleware/require-auth";
import { requireRecentAuth } from "../middleware/require-recent";
import { currentUser } from "../middleware/require-role";
import { signInAnswer } from "./sign-in-answer";

// Passkeys (WebAuthn): the signed-in user's own (under /users/me/passkeys), and signing in with one
// (POST /auth/passkey/options, then /auth/passkey/verify). The second step of a sign-in with a
// passkey is in src/routes/mfa.ts.

const TAGS = ["Passkeys"];

const AddPasskeyBody = z.object({ credential: RegistrationResponseSchema, name: PasskeyNameField.optional() }).strict();
const RenameBody = z.object({ name: PasskeyNameField }).strict();
const PasskeyParam = z.object({ id: z.uuid() });
const PasskeyVerifyBody = z
  .object({
    challenge_id: z.uuid(),
    credential: AuthenticationResponseSchema,
    device_id: DeviceIdField,
    device_name: DeviceNameField.optional(),
  })
  .strict();

export const passkeyUserRoutes = new Hono<AppEnv>()
  .post(
    "/me/passkeys/options",
    describeRoute({
      tags: TAGS,
      summary: "Creation options for a new passkey (resident key required, user verification preferred)",
      description: "The user's existing passkeys are excluded. The challenge works once, within 5 minutes.",
      responses: { 200: { description: "PublicKeyCredentialCreationOptionsJSON", schema: CreationOptionsSchema } },
    }),
    requireAuth,
    requireRecentAuth,
    async (c) => {
      const options = await passkeyRegistrationOptions(c.var.deps, await currentUser(c), Date.now());
      c.header("Cache-Control", "no-store");
      return c.json(options, 200);
    },
  )
  .post(
    "/me/passkeys",
    describeRoute({
      tags: TAGS,
      summary: "Register the passkey the authenticator made for the options' challenge",
      responses: { 201: { description: "The passkey", schema: PasskeySchema } },
      errors: ["validation_error", "invalid_passkey"],
    }),
    requireAuth,
    requireRecentAuth,
    validate("json", AddPasskeyBody),
    async (c) => {
      const body = c.req.valid("json");
      const credential = body.credential as RegistrationResponseJSON;
      const passkey = await addPasskey(c.var.deps, c.var.auth.sub, { credential, name: body.name }, Date.now());
      return c.json(passkey, 201);
    },
  )
  .get(
    "/me/passkeys",
    describeRoute({
      tags: TAGS,
      summary: "The user's passkeys",
      responses: { 200: { description: "Passkeys", schema: z.object({ passkeys: z.array(PasskeySchema) }) } },
    }),
    requireAuth,
    async (c) => {
      const passkeys = await userPasskeys(c.var.deps, c.var.auth.sub);
      c.header("Cache-Control", "no-store");
      return c.json({ passkeys }, 200);
    },
  )
  .patch(
    "/me/passkeys/:id",
    describeRoute({
      tags: TAGS,
      summary: "Rename a passkey",
      responses: { 200: { description: "The passkey", schema: PasskeySchema } },
      errors: ["validation_error", "passkey_not_found"],
    }),
    requireAuth,
    validate("param", PasskeyParam),
    validate("json", RenameBody),
    async (c) => {
      const passkey = await renameUserPasskey(c.var.deps, c.var.auth.sub, c.req.valid("param").id, c.req.valid("json").name);
      return c.json(passkey, 200);
    },
  )
  .delete(
    "/me/passkeys/:id",
    describeRoute({
      tags: TAGS,
      summary: "Remove a passkey",
      description: "Refused with 409 last_sign_in_method when nothing else would let the user sign in.",
      responses: { 204: { description: "Removed", schema: null } },
      errors: ["passkey_not_found", "last_sign_in_method"],
    }),
    requireAuth,
    requireRecentAuth,
    validate("param", PasskeyParam),
    async (c) => {
      await removePasskey(c.var.deps, c.var.auth.sub, c.req.valid("param").id);
      return c.body(null, 204);
    },
  );

export const passkeyAuthRoutes = new Hono<AppEnv>()
  .post(
    "/passkey/options",
    describeRoute({
      tags: TAGS,
      summary: "Request options for a discoverable passkey sign-in (no username typed)",
      description: "No allowCredentials: the authenticator offers the passkeys it holds for this service.",
      responses: { 200: { description: "Request options and their challenge_id", schema: ChallengedRequestOptionsSchema } },
      errors: ["rate_limited"],
    }),
    async (c) => {
      const options = await passkeySignInOptions(c.var.deps, requestMeta(c), Date.now());
      c.header("Cache-Control", "no-store");
      return c.json(options, 200);
    },
  )
  .post(
    "/passkey/verify",
    describeRoute({
      tags: TAGS,
      summary: "Sign in with a passkey",
      description:
        "A passkey with user verification counts as two factors: tokens at once. Without it, an account with " +
        "another second factor answers mfa_required.",
      responses: { 200: { description: "Signed in (or the second-factor challenge)", schema: TokenResponseSchema } },
      errors: ["validation_error", "invalid_passkey", "unknown_passkey", "account_disabled", "rate_limited"],
    }),
    validate("json", PasskeyVerifyBody),
    async (c) => {
      const body = c.req.valid("json");
      const signedIn = await signInWithPasskey(
        c.var.deps,
        { challengeId: body.challenge_id, credential: body.credential as AuthenticationResponseJSON, device: deviceOf(body) },
        requestMeta(c),
        Date.now(),
      );
      return signInAnswer(c, signedIn);
    },
  )
  .post(
    "/reauthenticate/options",
    describeRoute({
      tags: TAGS,
      summary: "Request options for a step-up with one of the user's passkeys",
      description: "Answer with POST /auth/reauthenticate, sending back challenge_id and the credential.",
      responses: { 200: { description: "Request options and their challenge_id", schema: ChallengedRequestOptionsSchema } },
    }),
    requireAuth,
    async (c) => {
      const options = await reauthenticationOptions(c.var.deps, c.var.auth.sub, Date.now());
      c.header("Cache-Control", "no-store");
      return c.json(options, 200);
    },
  );
