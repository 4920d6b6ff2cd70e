import type { Hono } from "hono";
import type * as z from "zod";
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from "zod-openapi";
import { ERRORS, type ErrorCode } from "../errors";
import { DOC, type Documented, type RouteDoc } from "./openapi-meta";
import { ProblemSchema } from "./schemas";

type Method = "get" | "post" | "put" | "patch" | "delete";

/**
 * The OpenAPI 3.1 document, generated from the routes themselves: every validator contributes the
 * very zod schema that checks the request, and describeRoute adds summary and responses.
 */
export function buildOpenApi(app: Hono<any>, info: { title: string; version: string; serverUrl: string }) {
  const docs = new Map<string, { method: Method; path: string; doc: RouteDoc }>();
  for (const route of app.routes) {
    const method = route.method.toLowerCase() as Method;
    if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
    const piece = (route.handler as Documented)[DOC];
    if (!piece) continue;
    const key = `${method} ${route.path}`;
    const entry = docs.get(key) ?? { method, path: route.path, doc: {} };
    entry.doc = merge(entry.doc, piece);
    docs.set(key, entry);
  }

  const paths: ZodOpenApiPathsObject = {};
  for (const { method, path, doc } of docs.values()) {
    const openPath = path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}");
    (paths[openPath] ??= {})[method] = operation(method, openPath, doc);
  }

  return createDocument({
    openapi: "3.1.0",
    info: { title: info.title, version: info.version },
    servers: [{ url: info.serverUrl }],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
    },
  });
}

function merge(a: RouteDoc, b: RouteDoc): RouteDoc {
  return {
    ...a,
    ...b,
    tags: b.tags ?? a.tags,
    responses: { ...a.responses, ...b.responses },
    errors: [...(a.errors ?? []), ...(b.errors ?? [])],
    auth: a.auth ?? b.auth,
  };
}

function operation(method: Method, path: string, doc: RouteDoc): ZodOpenApiOperationObject {
  const responses: ZodOpenApiOperationObject["responses"] = {};
  for (const [status, r] of Object.entries(doc.responses ?? {})) {
    responses[status as `2${string}`] = r.schema
      ? { description: r.description, content: { [r.contentType ?? "application/json"]: { schema: r.schema } } }
      : { description: r.description };
  }
  const codes = new Set<ErrorCode>((doc.errors ?? []) as ErrorCode[]);
  if (doc.json || doc.query || doc.param) codes.add("validation_error");
  if (doc.json) {
    codes.add("invalid_json");
    codes.add("unsupported_content_type");
    codes.add("payload_too_large");
  }
  if (doc.form) {
    codes.add("validation_error");
    codes.add("unsupported_content_type");
    codes.add("payload_too_large");
  }
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = ERRORS[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, list] of byStatus) {
    responses[String(status) as `4${string}`] = {
      description: `Problem (code: ${list.join(", ")})`,
      content: { "application/problem+json": { schema: ProblemSchema } },
    };
  }
  const op: ZodOpenApiOperationObject = {
    operationId: `${method}${path.replace(/[{}]/g, "").replace(/[^A-Za-z0-9]+(.)?/g, (_m, ch: string | undefined) => (ch ?? "").toUpperCase())}`,
    responses,
  };
  if (doc.summary) op.summary = doc.summary;
  if (doc.description) op.description = doc.description;
  if (doc.tags) op.tags = doc.tags;
  if (doc.auth === "bearer") op.security = [{ bearerAuth: [] }];
  const params: NonNullable<ZodOpenApiOperationObject["requestParams"]> = {};
  if (doc.query) params.query = doc.query as z.ZodObject;
  if (doc.param) params.path = doc.param as z.ZodObject;
  if (doc.query || doc.param) op.requestParams = params;
  if (doc.json) op.requestBody = { required: true, content: { "application/json": { schema: doc.json } } };
  if (doc.form) op.requestBody = { required: true, content: { "multipart/form-data": { schema: doc.form } } };
  return op;
}
