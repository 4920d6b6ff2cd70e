// @ts-expect-error the project type-checks against the Workers runtime's types, not Node's
import { parseEnv } from "node:util";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { unstable_readConfig } from "wrangler";
import { defineConfig } from "vitest/config";
// @ts-expect-error plain ESM helper shared with `npm start`
import { devSecrets, signingJwk } from "./scripts/dev-secrets.mjs";
// @ts-expect-error plain ESM helper shared with `npm start`
import { completeDevVars, DEV_VARS } from "./scripts/dev-vars.mjs";

const migrations = await readD1Migrations("./migrations");
const secrets = devSecrets("test");

// For test/security/deployment-config.test.ts: wrangler.toml's [vars] alone, as a deploy gets them,
// and the .dev.vars `npm start` makes of one written before it held development vars (secrets only),
// read back as wrangler reads it.
const wranglerVars = unstable_readConfig({ config: "./wrangler.toml" }).vars;
// And [env.production] as `wrangler deploy --env production` reads it: its vars, CPU limit and bindings.
const production = unstable_readConfig({ config: "./wrangler.toml", env: "production" });
const productionConfig = {
  vars: production.vars,
  cpuMs: production.limits?.cpu_ms,
  bindings: [
    ...production.d1_databases.map((b: { binding: string }) => b.binding),
    ...production.kv_namespaces.map((b: { binding: string }) => b.binding),
    ...production.r2_buckets.map((b: { binding: string }) => b.binding),
    ...production.durable_objects.bindings.map((b: { name: string }) => b.name),
  ],
};
const olderDevVars = Object.entries(devSecrets("older") as Record<string, string>)
  .map(([name, value]) => `${name}='${value}'`)
  .join("\n");
const devVarsAfterStart = parseEnv(completeDevVars(olderDevVars).text);

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      remoteBindings: false,
      miniflare: {
        bindings: {
          // wrangler.toml holds production's settings: tests run with the development ones.
          ...DEV_VARS,
          ...secrets,
          ENVIRONMENT: "test",
          // Exercises the confidential-client path of the Google code exchange.
          GOOGLE_CLIENT_SECRET: "test-google-client-secret",
          TEST_MIGRATIONS: migrations,
          KYC_WEBHOOK_SECRET: "test-kyc-webhook-secret-0123456789",
          // A second key, for the key-rotation test (never configured by default).
          TEST_NEXT_SIGNING_KEY: JSON.stringify(signingJwk("test-next")),
          TEST_WRANGLER_VARS: JSON.stringify(wranglerVars),
          TEST_PRODUCTION_CONFIG: JSON.stringify(productionConfig),
          TEST_DEV_VARS: JSON.stringify(devVarsAfterStart),
        },
      },
    }),
  ],
  test: {
    setupFiles: ["./test/setup.ts"],
    testTimeout: 30_000,
  },
});
