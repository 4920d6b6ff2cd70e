import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
// @ts-expect-error plain ESM helper shared with `npm start`
import { devSecrets, signingJwk } from "./scripts/dev-secrets.mjs";

const migrations = await readD1Migrations("./migrations");
const secrets = devSecrets("test");

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      remoteBindings: false,
      miniflare: {
        bindings: {
          ...secrets,
          ENVIRONMENT: "test",
          // Exercises the confidential-client path of the Google code exchange.
          GOOGLE_CLIENT_SECRET: "test-google-client-secret",
          TEST_MIGRATIONS: migrations,
          KYC_WEBHOOK_SECRET: "test-kyc-webhook-secret-0123456789",
          // A second key, for the key-rotation test (never configured by default).
          TEST_NEXT_SIGNING_KEY: JSON.stringify(signingJwk("test-next")),
        },
      },
    }),
  ],
  test: {
    setupFiles: ["./test/setup.ts"],
    testTimeout: 30_000,
  },
});
