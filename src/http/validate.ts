import { zValidator } from "@hono/zod-validator";
import type { MiddlewareHandler, ValidationTargets } from "hono";
import type * as z from "zod";
import { AppError } from "../errors";
import { attachDoc } from "./openapi-meta";

const JSON_MEDIA = /^application\/([\w.-]+\+)?json$/i;

/**
 * zValidator, wrapped once: a failed parse throws a validation AppError with field paths (never
 * zod's raw body), JSON bodies must say so and parse, and the schema is recorded for /openapi.json.
 */
export function validate<Target extends "json" | "query" | "param", S extends z.ZodType>(target: Target, schema: S) {
  const zod = zValidator(target, schema, (result) => {
    if (!result.success) {
      const errors = result.error.issues.map((issue) => ({
        path: issue.path.map(String).join(".") || "(root)",
        message: issue.message,
      }));
      throw new AppError("validation_error", { errors });
    }
  });
  const guarded: typeof zod = async (c, next) => {
    if (target === "json") {
      const mediaType = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim();
      if (!JSON_MEDIA.test(mediaType)) {
        throw new AppError("unsupported_content_type", { detail: "Send the body as application/json" });
      }
      try {
        await c.req.json(); // cached by Hono, so zValidator reads the same parse
      } catch {
        throw new AppError("invalid_json");
      }
    }
    return zod(c, next);
  };
  return attachDoc(guarded, { [target]: schema } as DocTargets) as typeof zod;
}

type DocTargets = Partial<Record<keyof ValidationTargets, z.ZodType>>;
export type { MiddlewareHandler };
