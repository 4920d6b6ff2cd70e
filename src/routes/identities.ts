import { Hono } from "hono";
import * as z from "zod";
import { linkGoogleIdentity, REMOVABLE_IDENTITIES, signInIdentities, unlinkIdentity } from "../domain/account-identities";
import type { AppEnv } from "../http/app-env";
import { describeRoute } from "../http/openapi-meta";
import { validate } from "../http/validate";
import { requireAuth } from "../middleware/require-auth";
import { requireRecentAuth } from "../middleware/require-recent";

// The signed-in user's ways in: list them, link a Google account, remove one (never the last).

const TAGS = ["Account"];

const iso = z.iso.datetime();

const SignInIdentitySchema = z
  .discriminatedUnion("type", [
    z.object({ type: z.literal("password") }),
    z.object({ type: z.literal("email_code"), email: z.string().meta({ description: "The verified address the code is sent to" }) }),
    z.object({ type: z.literal("phone"), phone: z.string().meta({ description: "E.164" }), verified: z.literal(true) }),
    z.object({
      type: z.literal("google"),
      email: z.string().nullable().meta({ description: "The Google account's address, as Google last proved it" }),
      linked_at: iso,
    }),
    z.object({ type: z.literal("passkey"), id: z.string(), name: z.string(), created_at: iso, last_used_at: iso.nullable() }),
  ])
  .meta({ id: "SignInIdentity" });

const IdentityListSchema = z.object({ identities: z.array(SignInIdentitySchema) });

const LinkGoogleBody = z
  .object({
    // Any string: a malformed token is `invalid_google_token`, as for POST /auth/google.
    id_token: z.string().meta({ description: "A Google ID token whose `aud` is this service's client id" }),
  })
  .strict();

const TypeParam = z.object({ type: z.enum(REMOVABLE_IDENTITIES) });

export const identityRoutes = new Hono<AppEnv>()
  .get(
    "/me/identities",
    describeRoute({
      tags: TAGS,
      summary: "Every way the user can sign in, without secrets",
      description:
        "`password` (only with a verified email), `email_code` (the verified email), `phone` (a proved number), " +
        "`google` (one per linked Google account), `passkey` (one per passkey).",
      responses: { 200: { description: "The user's ways in", schema: IdentityListSchema } },
    }),
    requireAuth,
    async (c) => {
      const identities = await signInIdentities(c.var.deps, c.var.auth.sub);
      c.header("Cache-Control", "no-store");
      return c.json({ identities }, 200);
    },
  )
  .post(
    "/me/identities/google",
    describeRoute({
      tags: TAGS,
      summary: "Link a Google account, proved by its ID token",
      description:
        "The ID token is checked as POST /auth/google checks it. Linking the same Google account again answers 200 " +
        "and changes nothing; a Google account linked to another user is refused with 409 identity_in_use.",
      responses: { 200: { description: "The linked identity", schema: z.object({ identity: SignInIdentitySchema }) } },
      errors: ["validation_error", "invalid_google_token", "identity_in_use", "provider_not_configured"],
    }),
    requireAuth,
    requireRecentAuth,
    validate("json", LinkGoogleBody),
    async (c) => {
      const identity = await linkGoogleIdentity(c.var.deps, c.var.auth.sub, c.req.valid("json").id_token, Date.now());
      return c.json({ identity }, 200);
    },
  )
  .delete(
    "/me/identities/:type",
    describeRoute({
      tags: TAGS,
      summary: "Remove a way in: `google`, `phone` or `password`",
      description:
        "`google` unlinks every linked Google account; `phone` clears the number (kept nowhere afterwards); `password` " +
        "clears the password. Refused with 409 last_sign_in_method when nothing else would let the user in (a password " +
        "with a verified email, a verified phone, Google, a passkey). Sessions stay open.",
      responses: { 204: { description: "Removed", schema: null } },
      errors: ["validation_error", "identity_not_found", "last_sign_in_method"],
    }),
    requireAuth,
    requireRecentAuth,
    validate("param", TypeParam),
    async (c) => {
      await unlinkIdentity(c.var.deps, c.var.auth.sub, c.req.valid("param").type, Date.now());
      return c.body(null, 204);
    },
  );
