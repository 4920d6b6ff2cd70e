import { Hono } from "hono";
import * as z from "zod";
import { getProfile, updateProfile, type ProfilePatch } from "../domain/profile";
import type { AppEnv } from "../http/app-env";
import { describeRoute } from "../http/openapi-meta";
import { UserSchema, UsernameField } from "../http/schemas";
import { validate } from "../http/validate";
import { requireAuth } from "../middleware/require-auth";
import { presentUser } from "../presenters";

const TAGS = ["Profile"];

const name = (max: number) => z.string().trim().min(1).max(max).nullable();

const ProfileBody = z
  .object({
    full_name: name(150),
    username: UsernameField.nullable(),
    first_name: name(100),
    last_name: name(100),
    profile_picture: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .nullable(),
  })
  .partial()
  .strict();

export const userRoutes = new Hono<AppEnv>()
  .get(
    "/me",
    describeRoute({
      tags: TAGS,
      summary: "The signed-in user",
      responses: { 200: { description: "The user", schema: UserSchema } },
    }),
    requireAuth,
    async (c) => {
      const user = await getProfile(c.var.deps, c.var.auth.sub);
      c.header("Cache-Control", "no-store");
      return c.json(presentUser(user), 200);
    },
  )
  .patch(
    "/me",
    describeRoute({
      tags: TAGS,
      summary: "Update the profile (any of the fields)",
      responses: { 200: { description: "The updated user", schema: UserSchema } },
      errors: ["validation_error", "username_taken"],
    }),
    requireAuth,
    validate("json", ProfileBody),
    async (c) => {
      const body = c.req.valid("json");
      const patch: ProfilePatch = {};
      if (body.full_name !== undefined) patch.fullName = body.full_name;
      if (body.username !== undefined) patch.username = body.username;
      if (body.first_name !== undefined) patch.firstName = body.first_name;
      if (body.last_name !== undefined) patch.lastName = body.last_name;
      if (body.profile_picture !== undefined) patch.profilePicture = body.profile_picture;
      const user = await updateProfile(c.var.deps, c.var.auth.sub, patch, Date.now());
      return c.json(presentUser(user), 200);
    },
  );
