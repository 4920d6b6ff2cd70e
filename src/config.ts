import { z } from "zod";

const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const PrivateJwk = z.looseObject({
  kty: z.string(),
  kid: z.string().min(1),
  d: z.string().min(1),
});

const ConfigSchema = z.object({
  ENVIRONMENT: z.enum(["development", "test", "staging", "production"]).default("production"),
  PUBLIC_BASE_URL: z.url(),
  JWT_ISSUER: z.string().min(1),
  JWT_AUDIENCE: z.string().min(1),
  ACCESS_TOKEN_TTL_SECONDS: seconds(900),
  REFRESH_TOKEN_TTL_SECONDS: seconds(30 * 24 * 3600),
  REFRESH_GRACE_SECONDS: z.coerce.number().int().min(0).default(10),
  PENDING_REGISTRATION_TTL_SECONDS: seconds(24 * 3600),
  EMAIL_CODE_TTL_SECONDS: seconds(600),
  RESEND_COOLDOWN_SECONDS: seconds(60),
  CODE_MAX_ATTEMPTS: seconds(5),
  MAIL_PROVIDER: z.enum(["console"]).default("console"),
  CORS_ALLOWED_ORIGINS: z.string().default(""),
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
    .pipe(z.array(PrivateJwk).min(1)),
  CODE_HMAC_SECRET: z.string().min(32),
  REFRESH_TOKEN_SECRET: z.string().min(32),
});

export type Config = Readonly<{
  environment: "development" | "test" | "staging" | "production";
  publicBaseUrl: string;
  issuer: string;
  audience: string;
  accessTtl: number;
  refreshTtl: number;
  refreshGrace: number;
  pendingTtl: number;
  emailCodeTtl: number;
  resendCooldown: number;
  codeMaxAttempts: number;
  mailProvider: "console";
  /** Browser origins allowed to call the API (bearer tokens, no cookies); empty: none. */
  corsOrigins: string[];
  signingKeys: ReadonlyArray<Record<string, unknown> & { kid: string }>;
  codeSecret: string;
  refreshSecret: string;
}>;

export class ConfigError extends Error {}

const cache = new WeakMap<object, Config>();

/** Bindings and vars parsed once per env object; a bad deployment fails loudly here, not mid-request. */
export function loadConfig(env: Env): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    // Name the offending settings, never their values (they may be secrets).
    const names = [...new Set(parsed.error.issues.map((i) => String(i.path[0])))].join(", ");
    throw new ConfigError(`invalid configuration: ${names}`);
  }
  const v = parsed.data;
  const local = v.ENVIRONMENT === "development" || v.ENVIRONMENT === "test";
  if (!local && v.MAIL_PROVIDER === "console") {
    // The console provider prints codes to the log: never in a deployed environment.
    throw new ConfigError("invalid configuration: MAIL_PROVIDER=console outside development");
  }
  const config: Config = {
    environment: v.ENVIRONMENT,
    publicBaseUrl: v.PUBLIC_BASE_URL.replace(/\/+$/, ""),
    issuer: v.JWT_ISSUER,
    audience: v.JWT_AUDIENCE,
    accessTtl: v.ACCESS_TOKEN_TTL_SECONDS,
    refreshTtl: v.REFRESH_TOKEN_TTL_SECONDS,
    refreshGrace: v.REFRESH_GRACE_SECONDS,
    pendingTtl: v.PENDING_REGISTRATION_TTL_SECONDS,
    emailCodeTtl: v.EMAIL_CODE_TTL_SECONDS,
    resendCooldown: v.RESEND_COOLDOWN_SECONDS,
    codeMaxAttempts: v.CODE_MAX_ATTEMPTS,
    mailProvider: v.MAIL_PROVIDER,
    corsOrigins: v.CORS_ALLOWED_ORIGINS.split(",").map((o) => o.trim()).filter(Boolean),
    signingKeys: v.JWT_SIGNING_KEYS,
    codeSecret: v.CODE_HMAC_SECRET,
    refreshSecret: v.REFRESH_TOKEN_SECRET,
  };
  cache.set(env, config);
  return config;
}
