// Every error code the API can answer with, declared once. Clients switch on `code`.

export const ERRORS = {
  validation_error: { status: 400, title: "Invalid request" },
  invalid_json: { status: 400, title: "Malformed JSON body" },
  unsupported_content_type: { status: 400, title: "Unsupported content type" },
  invalid_code: { status: 400, title: "Invalid or expired code" },
  invalid_token: { status: 400, title: "Invalid or expired token" },
  invalid_phone: { status: 400, title: "Invalid phone number" },
  weak_password: { status: 400, title: "Password too weak" },
  invalid_state: { status: 400, title: "Invalid or expired sign-in state" },
  invalid_document: { status: 400, title: "Invalid KYC document" },
  invalid_passkey: { status: 400, title: "The passkey could not be verified" },
  totp_not_enrolled: { status: 400, title: "No authenticator app is enrolled" },
  invalid_access_token: { status: 401, title: "Missing, invalid or revoked access token" },
  invalid_credentials: { status: 401, title: "Invalid email or password" },
  invalid_refresh_token: { status: 401, title: "Invalid refresh token" },
  invalid_mfa_token: { status: 401, title: "Invalid, used or expired mfa_token" },
  refresh_token_reused: { status: 401, title: "Refresh token reused; the session was revoked" },
  invalid_google_token: { status: 401, title: "Invalid Google ID token" },
  invalid_signature: { status: 401, title: "Invalid or stale webhook signature" },
  unknown_passkey: { status: 401, title: "Unknown passkey" },
  email_not_verified: { status: 403, title: "Email address not verified" },
  account_disabled: { status: 403, title: "Account disabled" },
  invalid_download_link: { status: 403, title: "Invalid or expired download link" },
  reauthentication_required: { status: 403, title: "A recent sign-in is required" },
  mfa_enrollment_required: { status: 403, title: "A second factor must be enrolled first" },
  forbidden: { status: 403, title: "Forbidden" },
  kyc_required: { status: 403, title: "Identity verification (KYC) approval required" },
  not_found: { status: 404, title: "Not found" },
  session_not_found: { status: 404, title: "Session not found" },
  user_not_found: { status: 404, title: "User not found" },
  application_not_found: { status: 404, title: "KYC application not found" },
  document_not_found: { status: 404, title: "KYC document not found" },
  passkey_not_found: { status: 404, title: "Passkey not found" },
  identity_not_found: { status: 404, title: "The account has no sign-in method of this type" },
  mfa_already_enrolled: { status: 409, title: "An authenticator app is already enrolled" },
  email_taken: { status: 409, title: "Email already registered" },
  username_taken: { status: 409, title: "Username already taken" },
  phone_taken: { status: 409, title: "Phone number already in use" },
  password_exists: { status: 409, title: "The account already has a password" },
  kyc_application_open: { status: 409, title: "A KYC application is already pending or approved" },
  already_decided: { status: 409, title: "The KYC application was already decided" },
  identity_in_use: { status: 409, title: "This identity is linked to another account" },
  last_sign_in_method: { status: 409, title: "This is the account's last way to sign in" },
  last_admin: { status: 409, title: "The last active administrator cannot be demoted, deactivated or deleted" },
  payload_too_large: { status: 413, title: "Request body too large" },
  too_many_attempts: { status: 429, title: "Too many attempts" },
  rate_limited: { status: 429, title: "Too many requests" },
  internal_error: { status: 500, title: "Internal server error" },
  delivery_failed: { status: 502, title: "The message could not be delivered" },
  service_unavailable: { status: 503, title: "Service misconfigured" },
  provider_not_configured: { status: 503, title: "This provider is not configured" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERRORS;

export type FieldError = { path: string; message: string };

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string | undefined;
  readonly errors: FieldError[] | undefined;
  readonly retryAfter: number | undefined;
  /** The request carried no credentials at all: its challenge names no error (RFC 6750 §3.1). */
  readonly noCredentials: boolean;

  constructor(
    code: ErrorCode,
    options: { detail?: string; errors?: FieldError[]; retryAfter?: number; noCredentials?: boolean; cause?: unknown } = {},
  ) {
    super(code, { cause: options.cause });
    this.code = code;
    this.status = ERRORS[code].status;
    this.detail = options.detail;
    this.errors = options.errors;
    this.retryAfter = options.retryAfter;
    this.noCredentials = options.noCredentials ?? false;
  }
}
