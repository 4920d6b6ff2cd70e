/** Every problem+json answer (RFC 9457) of the API, thrown by the client's methods. */
export class AuthError extends Error {
  constructor(
    readonly status: number,
    /** Stable machine-readable code (`invalid_credentials`, `refresh_token_reused`, ...): switch on it. */
    readonly code: string,
    readonly detail: string,
    readonly errors: { path: string; message: string }[] = [],
    /** Seconds to wait before trying again (the `Retry-After` of a 429), when the answer says. */
    readonly retryAfter?: number,
  ) {
    super(detail || code);
    this.name = "AuthError";
  }
}

export async function errorFrom(res: Response): Promise<AuthError> {
  const p = (await res.json().catch(() => ({}))) as Partial<AuthError>;
  const retryAfter = Number(res.headers.get("Retry-After") ?? NaN);
  return new AuthError(res.status, p.code ?? "http_error", p.detail ?? res.statusText, p.errors, Number.isFinite(retryAfter) ? retryAfter : undefined);
}
