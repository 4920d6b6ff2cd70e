// Invariant: wrangler.toml alone is a production configuration. A plain `wrangler deploy` refuses
// to serve until the deployer sets its URLs and the providers' secrets; console delivery (codes in
// the log, `otp` in answers) runs only in development and test, which `npm start` sets through
// .dev.vars. A Worker that refuses answers every request 503 service_unavailable and names the
// settings to fix once in its log, never their values.
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConfigError, loadConfig } from "../../src/config";
import worker from "../../src/index";
import { call, expectProblem, uniquePhone, type Json } from "../helpers";

type Vars = Record<string, string>;

const wranglerVars = JSON.parse(env.TEST_WRANGLER_VARS) as Vars;
const production = JSON.parse(env.TEST_PRODUCTION_CONFIG) as { vars: Vars; cpuMs?: number; bindings: string[] };
const devVars = JSON.parse(env.TEST_DEV_VARS) as Vars;
const BINDINGS = { DB: env.DB, KV: env.KV, KYC_BUCKET: env.KYC_BUCKET, SUBJECTS: env.SUBJECTS };
const SECRETS = { JWT_SIGNING_KEYS: env.JWT_SIGNING_KEYS, CODE_HMAC_SECRET: env.CODE_HMAC_SECRET, REFRESH_TOKEN_SECRET: env.REFRESH_TOKEN_SECRET, MFA_ENCRYPTION_KEYS: env.MFA_ENCRYPTION_KEYS };
const DEPLOYER_URLS = { PUBLIC_BASE_URL: "https://auth.example.com", FRONTEND_URL: "https://app.example.com", JWT_ISSUER: "https://auth.example.com" };
const PROVIDER_SECRETS = {
  RESEND_API_KEY: "re_deploy_secret_value",
  TWILIO_ACCOUNT_SID: "AC_deploy_secret_value",
  TWILIO_AUTH_TOKEN: "twilio_deploy_secret_value",
  TWILIO_FROM: "+15005550006",
};

/** A fresh env object: what one isolate of a deployment with these settings would get. */
const envOf = (vars: Vars) => ({ ...BINDINGS, ...vars }) as unknown as Env;

function configError(e: Env): ConfigError {
  try {
    loadConfig(e);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("the configuration was accepted");
}

async function fetchWith(e: Env, path: string, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`https://auth.example.com${path}`, init), e, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const errors = vi.spyOn(console, "error").mockImplementation(() => {});
afterEach(() => errors.mockClear());

describe("deployment configuration", () => {
  it("wrangler.toml's [vars] are production's: no console delivery, no local URLs, no CORS origins", () => {
    expect(wranglerVars.ENVIRONMENT).toBe("production");
    expect(wranglerVars.MAIL_PROVIDER).not.toBe("console");
    expect(wranglerVars.SMS_PROVIDER).not.toBe("console");
    expect(wranglerVars.CORS_ALLOWED_ORIGINS ?? "").toBe("");
    expect(Object.values(wranglerVars).filter((v) => /localhost|127\.0\.0\.1/.test(v))).toEqual([]);
  });

  it("[env.production] repeats every var and binding, with production's values: no console delivery, no local origins", () => {
    // wrangler inherits neither vars nor bindings into an environment: a var added to [vars] alone
    // would be unset in production, and a binding left out would be undefined there.
    expect(Object.keys(wranglerVars).filter((name) => !(name in production.vars))).toEqual([]);
    expect(production.bindings.sort()).toEqual(["DB", "KV", "KYC_BUCKET", "SUBJECTS"]);
    expect(production.vars.ENVIRONMENT).toBe("production");
    expect(production.vars.MAIL_PROVIDER).not.toBe("console");
    expect(production.vars.SMS_PROVIDER).not.toBe("console");
    expect(Object.entries(production.vars).filter(([, v]) => /localhost|127\.0\.0\.1|\[::1\]|0\.0\.0\.0/i.test(v))).toEqual([]);
    for (const origin of (production.vars.CORS_ALLOWED_ORIGINS ?? "").split(",").filter(Boolean)) {
      expect(origin.trim()).toMatch(/^https:\/\//);
    }
    // argon2id costs about 40 ms of CPU; a password change hashes twice. Workers Paid allows up to 5 min.
    expect(production.cpuMs).toBeGreaterThanOrEqual(500);
    expect(production.cpuMs).toBeLessThanOrEqual(300_000);
  });

  it("[env.production] serves only once its placeholders are replaced, and then as production", async () => {
    const placeholders = Object.entries(production.vars).filter(([, v]) => /<[^>]*>/.test(v)).map(([name]) => name);
    const shipped = envOf({ ...production.vars, ...SECRETS, ...PROVIDER_SECRETS });
    if (placeholders.length > 0) {
      // A placeholder URL or passkey domain is refused, so a deploy before they are set answers 503.
      const refused = configError(shipped).settings;
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.every((name) => placeholders.includes(name))).toBe(true);
      await expectProblem(await fetchWith(shipped, "/health"), 503, "service_unavailable");
    } else {
      expect(loadConfig(shipped).environment).toBe("production");
    }

    const deployed = envOf({ ...production.vars, ...SECRETS, ...PROVIDER_SECRETS, ...DEPLOYER_URLS, WEBAUTHN_RP_ID: "example.com" });
    const config = loadConfig(deployed);
    expect(config).toMatchObject({ environment: "production", isLocal: false });
    expect(config.mail.provider).not.toBe("console");
    expect(config.sms.provider).not.toBe("console");
    expect(config.corsOrigins.filter((o) => /localhost|127\.0\.0\.1/.test(o))).toEqual([]);
    expect(config.webauthn).toMatchObject({ rpId: "example.com", origins: ["https://auth.example.com", "https://app.example.com"] });
    expect((await fetchWith(deployed, "/health")).status).toBe(200);
    // No development echo: a code sent by SMS is never in the answer.
    const twilio = vi.spyOn(globalThis, "fetch").mockImplementation(async () => Response.json({ sid: "SM1" }, { status: 201 }));
    try {
      const sent = await fetchWith(deployed, "/api/v1/auth/phone/send-otp", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ phone: uniquePhone() }),
      });
      expect(sent.status).toBe(200);
      expect(await sent.json<Json>()).not.toHaveProperty("otp");
      expect(String(twilio.mock.calls[0]?.[0])).toMatch(/^https:\/\/api\.twilio\.com\//);
    } finally {
      twilio.mockRestore();
    }
  });

  it("refuses to serve with the defaults alone, naming what the deployer must set", async () => {
    const bare = envOf({ ...wranglerVars, ...SECRETS });
    expect(configError(bare).settings).toEqual(expect.arrayContaining(["PUBLIC_BASE_URL", "JWT_ISSUER"]));
    await expectProblem(await fetchWith(bare, "/api/v1/auth/login", { method: "POST", body: "{}" }), 503, "service_unavailable");

    // URLs set, providers' secrets not: still refused.
    const noSecrets = envOf({ ...wranglerVars, ...SECRETS, ...DEPLOYER_URLS });
    expect(configError(noSecrets).settings).toEqual(
      expect.arrayContaining(["RESEND_API_KEY", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM"]),
    );
    await expectProblem(await fetchWith(noSecrets, "/health"), 503, "service_unavailable");

    // Positive control: with both, the defaults are a working production configuration.
    const config = loadConfig(envOf({ ...wranglerVars, ...SECRETS, ...DEPLOYER_URLS, ...PROVIDER_SECRETS }));
    expect(config).toMatchObject({ environment: "production", isLocal: false, corsOrigins: [] });
    expect(config.mail.provider).toBe("resend");
    expect(config.sms.provider).toBe("twilio");
    expect(config.google).toBeUndefined();
    // Passkeys: this service's host and the origins of its own pages, unless set.
    expect(config.webauthn).toEqual({
      rpId: "auth.example.com",
      rpName: "edge-auth",
      origins: ["https://auth.example.com", "https://app.example.com"],
    });
  });

  it("WEBAUTHN_ORIGINS takes web origins and Android app origins, and refuses anything else", () => {
    const deployed = { ...wranglerVars, ...SECRETS, ...DEPLOYER_URLS, ...PROVIDER_SECRETS, WEBAUTHN_RP_ID: "example.com" };
    const android = "android:apk-key-hash:2jmj7l5rSw0yVb_vlWAYkK_YBwk";
    const config = loadConfig(envOf({ ...deployed, WEBAUTHN_ORIGINS: `https://app.example.com, ${android}` }));
    expect(config.webauthn).toMatchObject({ rpId: "example.com", origins: ["https://app.example.com", android] });
    for (const bad of ["app.example.com", "https://app.example.com/login", "javascript:alert(1)"]) {
      expect(configError(envOf({ ...deployed, WEBAUTHN_ORIGINS: bad })).settings).toEqual(["WEBAUTHN_ORIGINS"]);
    }
    expect(configError(envOf({ ...deployed, WEBAUTHN_RP_ID: "https://example.com" })).settings).toEqual(["WEBAUTHN_RP_ID"]);
  });

  it("runs in development with the .dev.vars `npm start` writes over the defaults", async () => {
    expect(Object.keys(devVars)).toEqual(expect.arrayContaining(["JWT_SIGNING_KEYS", "CODE_HMAC_SECRET", "REFRESH_TOKEN_SECRET"]));
    const dev = envOf({ ...wranglerVars, ...devVars });
    const config = loadConfig(dev);
    expect(config).toMatchObject({ environment: "development", isLocal: true, publicBaseUrl: "http://127.0.0.1:8787" });
    expect(config.mail.provider).toBe("console");
    expect(config.sms.provider).toBe("console");
    expect(config.corsOrigins).toContain("http://localhost:3000");
    // Emailed links and the Google hand-off land on this server's own console.
    expect(config.frontendUrl).toBe("http://127.0.0.1:8787");
    // Browsers refuse an IP address as a passkey's RP ID: passkeys are used at localhost.
    expect(config.webauthn).toMatchObject({ rpId: "localhost", origins: ["http://localhost:8787"] });

    expect((await fetchWith(dev, "/health")).status).toBe(200);
    const phone = uniquePhone();
    const sent = await fetchWith(dev, "/api/v1/auth/phone/send-otp", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ phone }),
    });
    expect(sent.status).toBe(200);
    // Development's echo of the code: the sign that console delivery is on.
    expect((await sent.json<Json>()).otp).toMatch(/^\d{6}$/);
  });

  it("FRONTEND_URL empty or unset is the service's own origin, where the console serves the linked pages", () => {
    const deployed = { ...wranglerVars, ...SECRETS, ...DEPLOYER_URLS, ...PROVIDER_SECRETS };
    expect(loadConfig(envOf({ ...deployed, FRONTEND_URL: "" })).frontendUrl).toBe("https://auth.example.com");
    const { FRONTEND_URL: _, ...unset } = deployed;
    expect(loadConfig(envOf(unset)).frontendUrl).toBe("https://auth.example.com");
    expect(loadConfig(envOf(deployed)).frontendUrl).toBe("https://app.example.com");
  });

  it("answers 503 on every route in production with console delivery, and logs the settings once", async () => {
    const doc = await (await call("/openapi.json")).json<{ paths: Record<string, Record<string, unknown>> }>();
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => [method.toUpperCase(), path.replace(/\{[^}]+\}/g, crypto.randomUUID())] as const),
    );
    routes.push(["GET", "/openapi.json"], ["GET", "/docs"], ["GET", "/nowhere"], ["OPTIONS", "/api/v1/auth/login"]);
    expect(routes.length).toBeGreaterThan(30);

    const misconfigured = envOf({ ...wranglerVars, ...devVars, ENVIRONMENT: "production" });
    for (const [method, path] of routes) {
      const init: RequestInit = { method, headers: { Origin: "http://localhost:3000", "Content-Type": "application/json" } };
      if (method === "POST" || method === "PATCH") init.body = "{}";
      const res = await fetchWith(misconfigured, path, init);
      await expectProblem(res, 503, "service_unavailable").catch((err: Error) => {
        throw new Error(`${method} ${path}: ${err.message}`);
      });
      expect(res.headers.get("Cache-Control")).toBe("no-store");
    }
    const controller = createScheduledController({ scheduledTime: Date.now(), cron: "17 3 * * *" });
    await expect(worker.scheduled(controller, misconfigured)).rejects.toBeInstanceOf(ConfigError);

    expect(errors).toHaveBeenCalledTimes(1);
    const line = String(errors.mock.calls[0]![0]);
    expect(JSON.parse(line)).toMatchObject({ event: "config_invalid", settings: ["ENVIRONMENT", "MAIL_PROVIDER", "SMS_PROVIDER"] });
    for (const secret of [devVars.JWT_SIGNING_KEYS!, devVars.CODE_HMAC_SECRET!, devVars.REFRESH_TOKEN_SECRET!]) {
      expect(line).not.toContain(secret);
    }
  });
});
