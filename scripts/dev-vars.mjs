// The settings of a run on this machine (`npm start`, the tests, the benchmark). wrangler.toml's
// [vars] are production's; these override them: through .dev.vars for `wrangler dev`, through
// bindings for the test pool and Miniflare.
import { devSecrets } from "./dev-secrets.mjs";

export const DEV_VARS = {
  ENVIRONMENT: "development",
  PUBLIC_BASE_URL: "http://127.0.0.1:8787",
  // The console served by the Worker itself: emailed links and the Google hand-off land on its pages.
  FRONTEND_URL: "http://127.0.0.1:8787",
  JWT_ISSUER: "http://127.0.0.1:8787",
  // Codes and links go to the server log: never in a deployed environment (src/config.ts refuses it).
  MAIL_PROVIDER: "console",
  SMS_PROVIDER: "console",
  GOOGLE_CLIENT_ID: "dev-client-id.apps.googleusercontent.com",
  CORS_ALLOWED_ORIGINS: "http://localhost:3000,http://127.0.0.1:3000,http://localhost:5173,http://localhost:8081",
  // Browsers refuse an IP address as a passkey's relying party: passkeys work at http://localhost:8787.
  WEBAUTHN_RP_ID: "localhost",
  WEBAUTHN_ORIGINS: "http://localhost:8787",
};

/**
 * A .dev.vars text with every development var and secret it lacks appended; settings already in it
 * are kept as they are (a developer may have chosen a real provider). Returns the names it added.
 */
export function completeDevVars(existing) {
  const wanted = { ...DEV_VARS, ...devSecrets() };
  const missing = Object.entries(wanted).filter(([name]) => !new RegExp(`^${name}=`, "m").test(existing));
  if (missing.length === 0) return { text: existing, added: [] };
  // Single quotes keep a JSON value's double quotes as they are (dotenv, as wrangler reads the file).
  const lines = missing.map(([name, value]) => `${name}=${value.startsWith("[") ? `'${value}'` : value}`);
  const separator = existing && !existing.endsWith("\n") ? "\n" : "";
  return { text: `${existing}${separator}${lines.join("\n")}\n`, added: missing.map(([name]) => name) };
}
