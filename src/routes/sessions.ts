import { Hono } from "hono";
import * as z from "zod";
import { revokeOwnSession } from "../domain/session-tokens";
import { listSessions } from "../domain/user-sessions";
import type { AppEnv } from "../http/app-env";
import { describeRoute } from "../http/openapi-meta";
import { SessionFieldsSchema } from "../http/schemas";
import { validate } from "../http/validate";
import { requireAuth } from "../middleware/require-auth";
import { presentSession } from "../presenters";

const TAGS = ["Sessions"];

const SessionSchema = SessionFieldsSchema.extend({ current: z.boolean() }).meta({ id: "Session" });

const SessionParam = z.object({ id: z.uuid() });

export const sessionRoutes = new Hono<AppEnv>()
  .get(
    "/sessions",
    describeRoute({
      tags: TAGS,
      summary: "List the user's active sessions",
      responses: { 200: { description: "Sessions", schema: z.object({ sessions: z.array(SessionSchema) }) } },
    }),
    requireAuth,
    async (c) => {
      const rows = await listSessions(c.var.deps, c.var.auth.sub, Date.now());
      const sessions = rows.map((s) => presentSession(s, c.var.auth.sid));
      c.header("Cache-Control", "no-store");
      return c.json({ sessions }, 200);
    },
  )
  .delete(
    "/sessions/:id",
    describeRoute({
      tags: TAGS,
      summary: "Revoke one of the user's sessions",
      responses: { 204: { description: "Revoked", schema: null } },
      errors: ["session_not_found"],
    }),
    requireAuth,
    validate("param", SessionParam),
    async (c) => {
      await revokeOwnSession(c.var.deps, c.var.auth.sub, c.req.valid("param").id, Date.now());
      return c.body(null, 204);
    },
  );
