import * as z from "zod";
import { ROLES, type Role } from "./domain/roles";

const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const flag = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0"])
    .default(fallback ? "true" : "false")
    .transform((v) => v === "true" || v === "1");

/** A limit written `count/seconds`, e.g. `5/3600` for five per hour. */
export type Limit = { count: number; windowSeconds: number };
const limit = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx): Limit => {
      const match = /^(\d+)\/(\d+)$/.exec(text.trim());
      if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) {
        ctx.addIssue({ code: "custom", message: "expected count/seconds" });
        return z.NEVER;
      }
      return { count: Number(match[1]), windowSeconds: Number(match[2]) };
    });

const privateJwk = () => z.looseObject({
  kty: z.string(),
  kid: z.string().min(1),
  d: z.string().min(1),
});

const optionalSecret = () => z.string().min(1).optional();

// The schema is built on the first parse, not at startup: an isolate's first request pays for it
// (issue 15). Its parts are functions for the same reason.
const configShape = () => ({
  ENVIRONMENT: z.enum(["development", "test", "staging", "production"]).default("production"),
  PUBLIC_BASE_URL: z.url(),
  // Empty or unset: the service's own origin, where the console serves the pages links land on.
  FRONTEND_URL: z.preprocess((v) => (v === "" ? undefined : v), z.url().optional()),
  JWT_ISSUER: z.string().min(1),
  JWT_AUDIENCE: z.string().min(1),
  ACCESS_TOKEN_TTL_SECONDS: seconds(900),
  REFRESH_TOKEN_TTL_SECONDS: seconds(30 * 24 * 3600),
  REFRESH_GRACE_SECONDS: z.coerce.number().int().min(0).default(10),
  HOT_PATH_CACHE_MS: z.coerce.number().int().min(0).max(10_000).default(1000),
  PENDING_REGISTRATION_TTL_SECONDS: seconds(24 * 3600),
  EMAIL_CODE_TTL_SECONDS: seconds(600),
  PASSWORD_RESET_TTL_SECONDS: seconds(900),
  PHONE_OTP_TTL_SECONDS: seconds(120),
  RESEND_COOLDOWN_SECONDS: seconds(60),
  CODE_MAX_ATTEMPTS: seconds(5),
  LOGIN_DELAY_AFTER_FAILURES: seconds(5),
  LOGIN_LOCK_AFTER_FAILURES: seconds(10),
  LOGIN_LOCK_SECONDS: seconds(900),
  LOGIN_IP_LIMIT: limit("100/900"),
  REGISTER_IP_LIMIT: limit("20/3600"),
  CODE_VERIFY_IP_LIMIT: limit("100/900"),
  EMAIL_SENDS_PER_ADDRESS_LIMIT: limit("5/3600"),
  EMAIL_SENDS_IP_LIMIT: limit("30/3600"),
  OTP_SENDS_PER_PHONE_LIMIT: limit("5/3600"),
  OTP_SENDS_IP_LIMIT: limit("20/3600"),
  DEFAULT_PHONE_REGION: z
    .string()
    .regex(/^([A-Z]{2})?$/)
    .default(""),
  PWNED_PASSWORDS_CHECK: flag(false),
  PWNED_PASSWORDS_TIMEOUT_MS: z.coerce.number().int().positive().default(1500),
  MAIL_PROVIDER: z.enum(["console", "resend"]).default("console"),
  MAIL_FROM: z.string().default("edge-auth <no-reply@example.com>"),
  RESEND_API_KEY: optionalSecret(),
  SMS_PROVIDER: z.enum(["console", "bulksmsbd", "twilio"]).default("console"),
  BULKSMSBD_API_KEY: optionalSecret(),
  BULKSMSBD_SENDER_ID: optionalSecret(),
  TWILIO_ACCOUNT_SID: optionalSecret(),
  TWILIO_AUTH_TOKEN: optionalSecret(),
  TWILIO_FROM: optionalSecret(),
  GOOGLE_CLIENT_ID: optionalSecret(),
  GOOGLE_CLIENT_SECRET: optionalSecret(),
  CORS_ALLOWED_ORIGINS: z.string().default(""),
  // Roles whose users must enrol a second factor before any admin route answers them.
  MFA_REQUIRED_ROLES: z
    .string()
    .default("ADMIN")
    .transform((text) => text.split(",").map((r) => r.trim()).filter(Boolean))
    .pipe(z.array(z.enum(ROLES))),
  // How long after a sign-in or reauthentication sensitive changes are allowed (step-up).
  REAUTH_MAX_AGE_SECONDS: seconds(600),
  // The issuer an authenticator app shows next to the account name.
  TOTP_ISSUER: z.string().min(1).default("edge-auth"),
  // Passkeys: the relying party's id (a host name the origins are on) and the origins allowed to
  // use it, comma-separated (web origins, or an Android app's `android:apk-key-hash:<hash>`).
  // Empty: PUBLIC_BASE_URL's host, and the origins of PUBLIC_BASE_URL and FRONTEND_URL.
  WEBAUTHN_RP_ID: z
    .string()
    .trim()
    .regex(/^([a-z0-9-]+\.)*[a-z0-9-]+$|^$/i, "a host name, without scheme or port")
    .default(""),
  WEBAUTHN_ORIGINS: z
    .string()
    .default("")
    .transform((text) => text.split(",").map((o) => o.trim()).filter(Boolean))
    .pipe(z.array(z.string().refine(isWebAuthnOrigin, "a web origin (scheme://host[:port]) or android:apk-key-hash:<hash>"))),
  // The name authenticators show next to the passkey.
  WEBAUTHN_RP_NAME: z.string().trim().min(1).default("edge-auth"),
  KYC_MAX_FILE_BYTES: z.coerce.number().int().positive().default(10 * 1024 * 1024),
  KYC_WEBHOOK_SECRET: optionalSecret(),
  AUDIT_RETENTION_DAYS: seconds(180),
  JWT_SIGNING_KEYS: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "JWT_SIGNING_KEYS is not JSON" });
        return z.NEVER;
      }
    })
    .pipe(z.array(privateJwk()).min(1)),
  CODE_HMAC_SECRET: z.string().min(32),
  REFRESH_TOKEN_SECRET: z.string().min(32),
  // "<key id>:<32 bytes, base64url>[,<older key id>:<key>...]": the first encrypts, all decrypt.
  MFA_ENCRYPTION_KEYS: z
    .string()
    .transform((text, ctx) => {
      const keys = text.split(",").map((entry) => entry.trim()).filter(Boolean).map((entry) => {
        const [id, key] = entry.split(":");
        return { id: id ?? "", key: key ?? "" };
      });
      const valid = keys.length > 0 && keys.every((k) => /^[A-Za-z0-9_-]{1,32}$/.test(k.id) && /^[A-Za-z0-9_-]{43}$/.test(k.key));
      if (!valid) {
        ctx.addIssue({ code: "custom", message: "MFA_ENCRYPTION_KEYS must be id:key pairs (32-byte base64url keys)" });
        return z.NEVER;
      }
      return keys;
    }),
});

let configSchema: z.ZodObject<ReturnType<typeof configShape>> | undefined;

type Parsed = z.output<z.ZodObject<ReturnType<typeof configShape>>>;

export type Config = Readonly<{
  environment: Parsed["ENVIRONMENT"];
  /** Local development or tests: console delivery allowed, `otp` echoed by send-otp in development. */
  isLocal: boolean;
  publicBaseUrl: string;
  frontendUrl: string;
  issuer: string;
  audience: string;
  accessTtl: number;
  refreshTtl: number;
  refreshGrace: number;
  /**
   * How long one isolate may reuse a session's "not revoked" answer and a user's row on the
   * authenticated hot path (0: never). Revocations made through this isolate apply at once.
   */
  hotPathCacheMs: number;
  pendingTtl: number;
  emailCodeTtl: number;
  resetTtl: number;
  phoneOtpTtl: number;
  resendCooldown: number;
  codeMaxAttempts: number;
  login: { delayAfter: number; lockAfter: number; lockSeconds: number; ipLimit: Limit };
  limits: {
    registerIp: Limit;
    /** Code and link checks per client address, across every address and number it tries. */
    codeVerifyIp: Limit;
    emailSendsPerAddress: Limit;
    emailSendsIp: Limit;
    otpSendsPerPhone: Limit;
    otpSendsIp: Limit;
  };
  defaultPhoneRegion: string | undefined;
  pwnedPasswords: { enabled: boolean; timeoutMs: number };
  mail: { provider: Parsed["MAIL_PROVIDER"]; from: string; resendApiKey: string | undefined };
  sms: {
    provider: Parsed["SMS_PROVIDER"];
    bulksmsbd: { apiKey: string; senderId: string } | undefined;
    twilio: { accountSid: string; authToken: string; from: string } | undefined;
  };
  google: { clientId: string; clientSecret: string | undefined } | undefined;
  kyc: { maxFileBytes: number; webhookSecret: string | undefined };
  auditRetentionDays: number;
  /** Browser origins allowed to call the API (bearer tokens, no cookies); empty: none. */
  corsOrigins: string[];
  /** Users with one of these roles must have a second factor to use admin routes. */
  mfaRequiredRoles: readonly Role[];
  totpIssuer: string;
  /** The WebAuthn relying party: its id, its name, and the origins whose assertions are accepted. */
  webauthn: { rpId: string; rpName: string; origins: readonly string[] };
  /** A sensitive route needs the token's auth_time within this many seconds (requireRecentAuth). */
  reauthMaxAge: number;
  signingKeys: ReadonlyArray<Record<string, unknown> & { kid: string }>;
  /** The raw secret, as a cache key for imported keys that survives a new env object. */
  signingKeysSource: string;
  codeSecret: string;
  refreshSecret: string;
  /** AES-256-GCM keys for second-factor secrets at rest, by id; the first encrypts. */
  mfaKeys: ReadonlyArray<{ id: string; key: string }>;
}>;

/** A deployment this service refuses to run: the settings to fix, by name (never their values). */
export class ConfigError extends Error {
  readonly settings: string[];

  constructor(settings: string[], reason = "missing or invalid") {
    super(`invalid configuration (${reason}): ${settings.join(", ")}`);
    this.settings = settings;
  }
}

// An isolate keeps its env object: a bad configuration is parsed and logged once, not per request.
const cache = new WeakMap<object, Config | ConfigError>();

/**
 * Bindings and vars parsed once per env object; a bad deployment fails loudly here, not mid-request:
 * every request then answers 503 service_unavailable (src/http/problem.ts).
 */
export function loadConfig(env: Env): Config {
  const hit = cache.get(env);
  if (hit instanceof ConfigError) throw hit;
  if (hit) return hit;
  let result: Config | ConfigError;
  try {
    result = parse(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    result = err;
    console.error(JSON.stringify({ level: "error", event: "config_invalid", settings: err.settings, error: err.message }));
  }
  cache.set(env, result);
  if (result instanceof ConfigError) throw result;
  return result;
}

function parse(env: Env): Config {
  const parsed = (configSchema ??= z.object(configShape())).safeParse(env);
  if (!parsed.success) throw new ConfigError([...new Set(parsed.error.issues.map((i) => String(i.path[0])))]);
  return build(parsed.data, env.JWT_SIGNING_KEYS);
}

function build(v: Parsed, signingKeysSource: string): Config {
  const isLocal = v.ENVIRONMENT === "development" || v.ENVIRONMENT === "test";
  // Console providers print codes to the log: never in a deployed environment.
  if (!isLocal) {
    const consoleDelivery = [v.MAIL_PROVIDER === "console" && "MAIL_PROVIDER", v.SMS_PROVIDER === "console" && "SMS_PROVIDER"];
    const named = consoleDelivery.filter((name): name is string => Boolean(name));
    if (named.length > 0) throw new ConfigError(["ENVIRONMENT", ...named], "console delivery outside development");
  }
  const missing: string[] = [];
  if (v.MAIL_PROVIDER === "resend" && !v.RESEND_API_KEY) missing.push("RESEND_API_KEY");
  const bulksmsbd =
    v.BULKSMSBD_API_KEY && v.BULKSMSBD_SENDER_ID ? { apiKey: v.BULKSMSBD_API_KEY, senderId: v.BULKSMSBD_SENDER_ID } : undefined;
  if (v.SMS_PROVIDER === "bulksmsbd" && !bulksmsbd) missing.push("BULKSMSBD_API_KEY", "BULKSMSBD_SENDER_ID");
  const twilio =
    v.TWILIO_ACCOUNT_SID && v.TWILIO_AUTH_TOKEN && v.TWILIO_FROM
      ? { accountSid: v.TWILIO_ACCOUNT_SID, authToken: v.TWILIO_AUTH_TOKEN, from: v.TWILIO_FROM }
      : undefined;
  if (v.SMS_PROVIDER === "twilio" && !twilio) missing.push("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM");
  if (missing.length > 0) throw new ConfigError(missing, "the delivery provider's secrets are missing");
  return {
    environment: v.ENVIRONMENT,
    isLocal,
    publicBaseUrl: v.PUBLIC_BASE_URL.replace(/\/+$/, ""),
    frontendUrl: (v.FRONTEND_URL ?? v.PUBLIC_BASE_URL).replace(/\/+$/, ""),
    issuer: v.JWT_ISSUER,
    audience: v.JWT_AUDIENCE,
    accessTtl: v.ACCESS_TOKEN_TTL_SECONDS,
    refreshTtl: v.REFRESH_TOKEN_TTL_SECONDS,
    refreshGrace: v.REFRESH_GRACE_SECONDS,
    hotPathCacheMs: v.HOT_PATH_CACHE_MS,
    pendingTtl: v.PENDING_REGISTRATION_TTL_SECONDS,
    emailCodeTtl: v.EMAIL_CODE_TTL_SECONDS,
    resetTtl: v.PASSWORD_RESET_TTL_SECONDS,
    phoneOtpTtl: v.PHONE_OTP_TTL_SECONDS,
    resendCooldown: v.RESEND_COOLDOWN_SECONDS,
    codeMaxAttempts: v.CODE_MAX_ATTEMPTS,
    login: {
      delayAfter: v.LOGIN_DELAY_AFTER_FAILURES,
      lockAfter: v.LOGIN_LOCK_AFTER_FAILURES,
      lockSeconds: v.LOGIN_LOCK_SECONDS,
      ipLimit: v.LOGIN_IP_LIMIT,
    },
    limits: {
      registerIp: v.REGISTER_IP_LIMIT,
      codeVerifyIp: v.CODE_VERIFY_IP_LIMIT,
      emailSendsPerAddress: v.EMAIL_SENDS_PER_ADDRESS_LIMIT,
      emailSendsIp: v.EMAIL_SENDS_IP_LIMIT,
      otpSendsPerPhone: v.OTP_SENDS_PER_PHONE_LIMIT,
      otpSendsIp: v.OTP_SENDS_IP_LIMIT,
    },
    defaultPhoneRegion: v.DEFAULT_PHONE_REGION || undefined,
    pwnedPasswords: { enabled: v.PWNED_PASSWORDS_CHECK, timeoutMs: v.PWNED_PASSWORDS_TIMEOUT_MS },
    mail: { provider: v.MAIL_PROVIDER, from: v.MAIL_FROM, resendApiKey: v.RESEND_API_KEY },
    sms: { provider: v.SMS_PROVIDER, bulksmsbd, twilio },
    google: v.GOOGLE_CLIENT_ID ? { clientId: v.GOOGLE_CLIENT_ID, clientSecret: v.GOOGLE_CLIENT_SECRET } : undefined,
    kyc: { maxFileBytes: v.KYC_MAX_FILE_BYTES, webhookSecret: v.KYC_WEBHOOK_SECRET },
    auditRetentionDays: v.AUDIT_RETENTION_DAYS,
    corsOrigins: v.CORS_ALLOWED_ORIGINS.split(",").map((o) => o.trim()).filter(Boolean),
    mfaRequiredRoles: v.MFA_REQUIRED_ROLES,
    totpIssuer: v.TOTP_ISSUER,
    webauthn: webauthnOf(v),
    reauthMaxAge: v.REAUTH_MAX_AGE_SECONDS,
    signingKeys: v.JWT_SIGNING_KEYS,
    signingKeysSource,
    codeSecret: v.CODE_HMAC_SECRET,
    refreshSecret: v.REFRESH_TOKEN_SECRET,
    mfaKeys: v.MFA_ENCRYPTION_KEYS,
  };
}

function isWebAuthnOrigin(origin: string): boolean {
  if (/^android:apk-key-hash:[A-Za-z0-9_-]+$/.test(origin)) return true;
  try {
    const url = new URL(origin);
    return (url.protocol === "https:" || url.protocol === "http:") && url.origin === origin;
  } catch {
    return false;
  }
}

/** The relying party: as set, or this service's host and the origins of its own pages. */
function webauthnOf(v: Parsed): Config["webauthn"] {
  const base = new URL(v.PUBLIC_BASE_URL);
  const origins = v.WEBAUTHN_ORIGINS.length > 0 ? v.WEBAUTHN_ORIGINS : [base.origin, new URL(v.FRONTEND_URL ?? v.PUBLIC_BASE_URL).origin];
  return { rpId: v.WEBAUTHN_RP_ID.toLowerCase() || base.hostname, rpName: v.WEBAUTHN_RP_NAME, origins: [...new Set(origins)] };
}
