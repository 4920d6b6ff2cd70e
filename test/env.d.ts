declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    TEST_NEXT_SIGNING_KEY: string;
    /** JSON: wrangler.toml's [vars] alone. */
    TEST_WRANGLER_VARS: string;
    /** JSON: wrangler.toml's [env.production] as wrangler reads it: `{ vars, cpuMs, bindings }`. */
    TEST_PRODUCTION_CONFIG: string;
    /** JSON: the settings `npm start` leaves in .dev.vars. */
    TEST_DEV_VARS: string;
  }
}
