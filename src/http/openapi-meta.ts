import type { MiddlewareHandler } from "hono";
import type * as z from "zod";

/** What a route tells the OpenAPI document about itself, besides the schemas its validators carry. */
export type RouteDoc = {
  summary?: string;
  description?: string;
  tags?: string[];
  auth?: "bearer";
  json?: z.ZodType;
  /** A multipart/form-data body, documented only: the route reads it itself (KYC uploads). */
  form?: z.ZodType;
  query?: z.ZodType;
  param?: z.ZodType;
  /** status → response schema (or null for an empty body) and a description */
  responses?: Record<number, { description: string; schema?: z.ZodType | null; contentType?: string }>;
  errors?: string[];
};

export const DOC = Symbol("openapi-doc");

export type Documented = MiddlewareHandler & { [DOC]?: RouteDoc };

export function attachDoc<H extends MiddlewareHandler>(handler: H, doc: RouteDoc): H {
  (handler as Documented)[DOC] = doc;
  return handler;
}

/** A no-op middleware that carries a route's summary and responses into /openapi.json. */
export function describeRoute(doc: RouteDoc): MiddlewareHandler {
  return attachDoc(async (_c, next) => next(), doc);
}
