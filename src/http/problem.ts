import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ConfigError } from "../config";
import { AppError, ERRORS } from "../errors";

const TOKEN_CODES = new Set(["invalid_access_token"]);

/** The one place that builds an error body: RFC 9457 problem+json. Internal reasons never reach the wire. */
export function problemResponse(err: unknown, c: Context): Response {
  const appError = toAppError(err);
  // A bad configuration was logged once, when it was found (src/config.ts); not again per request.
  if (appError.status >= 500 && !(err instanceof ConfigError)) {
    // Log the cause for operators; the client only sees the generic problem.
    console.error(JSON.stringify({ level: "error", request_id: c.get("requestId"), error: describe(err) }));
  }
  const body: Record<string, unknown> = {
    type: `urn:edge-auth:problem:${appError.code}`,
    title: ERRORS[appError.code].title,
    status: appError.status,
    detail: appError.detail ?? ERRORS[appError.code].title,
    code: appError.code,
  };
  if (appError.errors) body.errors = appError.errors;
  const headers: Record<string, string> = {
    "Content-Type": "application/problem+json",
    "Cache-Control": "no-store",
  };
  if (appError.retryAfter !== undefined) headers["Retry-After"] = String(Math.max(1, Math.ceil(appError.retryAfter)));
  if (TOKEN_CODES.has(appError.code)) {
    // RFC 6750 §3.1: a request without credentials is only told how to authenticate, with no error.
    headers["WWW-Authenticate"] = appError.noCredentials ? 'Bearer realm="edge-auth"' : 'Bearer error="invalid_token"';
  }
  return new Response(JSON.stringify(body), { status: appError.status, headers });
}

function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof ConfigError) {
    return new AppError("service_unavailable", { detail: "The service is not configured; its log names the settings to fix" });
  }
  if (err instanceof HTTPException) {
    // Hono's own guards (body limit, header checks) throw these; map them to our catalogue.
    if (err.status === 413) return new AppError("payload_too_large");
    if (err.status === 400) return new AppError("validation_error", { detail: "The request could not be read" });
    if (err.status === 404) return new AppError("not_found");
  }
  return new AppError("internal_error");
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? ` (cause: ${err.cause.message})` : "";
    return `${err.name}: ${err.message}${cause}`;
  }
  return String(err);
}
