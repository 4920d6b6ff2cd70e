import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import * as z from "zod";
import {
  GOOGLE_STATE_TTL_SECONDS,
  completeGoogleSignIn,
  frontendRedirect,
  redeemGoogleExchangeCode,
  requireGoogle,
  signInWithGoogleIdToken,
  startGoogleSignIn,
  takeGoogleState,
} from "../domain/google";
import type { AppEnv } from "../http/app-env";
import { attachDoc, describeRoute } from "../http/openapi-meta";
import { DeviceIdField, DeviceNameField, deviceOf } from "../http/device";
import { SignUpRoleField, TokenResponseSchema } from "../http/schemas";
import { validate } from "../http/validate";
import { requestMeta } from "../middleware/require-auth";
import { signInAnswer } from "./sign-in-answer";

const TAGS = ["Google"];

// `__Host-` pins the cookie to this origin over HTTPS with Path=/; Lax lets Google's top-level
// redirect back to the callback carry it. It holds the state's SHA-256, which the callback checks.
const STATE_COOKIE = "google-state";
const STATE_COOKIE_OPTIONS = { prefix: "host", path: "/", secure: true, httpOnly: true, sameSite: "Lax" } as const;

const GoogleSignInResponse = TokenResponseSchema.extend({
  created: z.boolean().meta({ description: "true when this sign-in created the account" }),
});

const IdTokenBody = z.object({
  // Any string: a malformed token is `invalid_google_token`, not a validation error.
  id_token: z.string().meta({ description: "A Google ID token whose `aud` is this service's client id" }),
  device_id: DeviceIdField,
  device_name: DeviceNameField.optional(),
  role: SignUpRoleField.optional(),
});

const StartQuery = z.object({
  device_id: DeviceIdField.meta({ description: "The device the session will be bound to; the exchange must send the same" }),
  redirect_uri: z.string().max(2048).optional().meta({
    description: "A page of the configured front end (same origin as FRONTEND_URL) that receives `#code=`; default `<FRONTEND_URL>/auth/callback`",
  }),
  role: SignUpRoleField.optional().meta({
    description:
      "Used only if this sign-in creates the account (default CUSTOMER); kept with the PKCE verifier until the callback. ADMIN is refused.",
  }),
});

// Every field optional: a missing or bad `state` is `invalid_state`, decided by the handler.
const CallbackQuery = z.object({
  code: z.string().optional(),
  state: z.string().optional(),
  error: z.string().optional(),
});

const ExchangeBody = z.object({
  code: z.string().max(200).meta({ description: "The `code` from the front end's `#code=` fragment" }),
  device_id: DeviceIdField,
  device_name: DeviceNameField.optional(),
});

const googleConfigured = attachDoc(
  createMiddleware<AppEnv>(async (c, next) => {
    requireGoogle(c.var.deps.config);
    await next();
  }),
  { errors: ["provider_not_configured"] },
);

export const googleRoutes = new Hono<AppEnv>()
  .post(
    "/google",
    describeRoute({
      tags: TAGS,
      summary: "Sign in with a Google ID token (creates the account on first use)",
      description:
        "The ID token is checked against Google's published keys (RS256), `iss`, `aud` (the configured client id), `exp` and `email_verified`. A known Google account signs into its user; a first sign-in links to the account with that verified email, or creates one.",
      responses: { 200: { description: "Signed in", schema: GoogleSignInResponse } },
      errors: ["invalid_google_token", "account_disabled"],
    }),
    googleConfigured,
    validate("json", IdTokenBody),
    async (c) => {
      const body = c.req.valid("json");
      const signedIn = await signInWithGoogleIdToken(c.var.deps, { idToken: body.id_token, device: deviceOf(body), role: body.role }, requestMeta(c), Date.now());
      return signInAnswer(c, signedIn);
    },
  )
  .get(
    "/google/start",
    describeRoute({
      tags: TAGS,
      summary: "Start the browser sign-in: redirects to Google (authorization code, PKCE S256, state, nonce)",
      description: "Sets the HttpOnly `__Host-google-state` cookie that the callback must receive from the same browser.",
      responses: { 302: { description: "Redirect to Google's consent page", schema: null } },
    }),
    googleConfigured,
    validate("query", StartQuery),
    async (c) => {
      const query = c.req.valid("query");
      const { deps } = c.var;
      const redirectUri = frontendRedirect(deps.config, query.redirect_uri);
      const { url, stateHash } = await startGoogleSignIn(deps, { deviceId: query.device_id, redirectUri, role: query.role }, Date.now());
      setCookie(c, STATE_COOKIE, stateHash, { ...STATE_COOKIE_OPTIONS, maxAge: GOOGLE_STATE_TTL_SECONDS });
      c.header("Referrer-Policy", "no-referrer");
      return c.redirect(url, 302);
    },
  )
  .get(
    "/google/callback",
    describeRoute({
      tags: TAGS,
      summary: "Google's redirect back: redirects to the front end with a one-time code in the fragment",
      description:
        "On success the browser goes to `<front end>/auth/callback#code=<exchange code>` (a fragment: never sent to a server nor in a Referer); the front end posts it to `/auth/google/exchange` within 60 s. If the user declined at Google: `#error=access_denied`.",
      responses: { 302: { description: "Redirect to the front end", schema: null } },
      errors: ["invalid_state", "invalid_google_token"],
    }),
    googleConfigured,
    validate("query", CallbackQuery),
    async (c) => {
      const query = c.req.valid("query");
      const { deps } = c.var;
      const now = Date.now();
      const record = await takeGoogleState(deps, { state: query.state, cookie: getCookie(c, STATE_COOKIE, "host") }, now);
      let target: string;
      if (query.code) {
        target = `${record.redirect_uri}#code=${await completeGoogleSignIn(deps, record, query.code, now)}`;
      } else {
        target = `${record.redirect_uri}#error=${query.error === "access_denied" ? "access_denied" : "google_error"}`;
      }
      deleteCookie(c, STATE_COOKIE, STATE_COOKIE_OPTIONS);
      c.header("Referrer-Policy", "no-referrer");
      return c.redirect(target, 302);
    },
  )
  .post(
    "/google/exchange",
    describeRoute({
      tags: TAGS,
      summary: "Trade the one-time code from the callback's fragment for the tokens (once, within 60 s)",
      responses: { 200: { description: "Signed in", schema: GoogleSignInResponse } },
      errors: ["invalid_code", "account_disabled"],
    }),
    googleConfigured,
    validate("json", ExchangeBody),
    async (c) => {
      const body = c.req.valid("json");
      const signedIn = await redeemGoogleExchangeCode(c.var.deps, { code: body.code, device: deviceOf(body) }, requestMeta(c), Date.now());
      return signInAnswer(c, signedIn);
    },
  );
