import type { CodeResult } from "../durable/subject-store";
import { AppError } from "../errors";

/**
 * The error for a failed code or link check: a spent attempt budget is 429 `too_many_attempts` with
 * Retry-After; anything else (wrong, expired, used, unknown) is the same `invalid`, so a guess learns
 * nothing about which.
 */
export function failedCheck(result: Exclude<CodeResult, { ok: true }>, invalid: "invalid_code" | "invalid_token"): AppError {
  if (result.reason === "exhausted") return new AppError("too_many_attempts", { retryAfter: result.retryAfterMs / 1000 });
  return new AppError(invalid);
}
