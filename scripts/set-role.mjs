// `npm run set-role -- --email <email> --role <CUSTOMER|PROVIDER|ADMIN> [--remote]`: changes an
// existing user's role in the local D1 (the database `npm start` uses) or, with --remote, in the
// deployed one. This is how the first administrator is made, since nobody can sign up as one.
// Offline for the local database: the local wrangler, no telemetry, migrations applied first.
import { spawnSync } from "node:child_process";
import { root, wranglerBin as wrangler, wranglerEnv as env } from "./wrangler-env.mjs";

const ROLES = ["CUSTOMER", "PROVIDER", "ADMIN"];
const USAGE = "usage: npm run set-role -- --email <email> --role <CUSTOMER|PROVIDER|ADMIN> [--remote]";
// The same rule as the API's email fields (zod's z.email()), so any address a user signed up with is accepted.
const EMAIL = /^(?:[A-Za-z0-9_'+\-]+\.)*[A-Za-z0-9_'+\-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$/;

function fail(message) {
  console.error(`set-role: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const options = { email: undefined, role: undefined, remote: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    if (flag === "--help" || flag === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else if (flag === "--remote" && inline === undefined) {
      options.remote = true;
    } else if (flag === "--local" && inline === undefined) {
      options.remote = false;
    } else if (flag === "--email" || flag === "--role") {
      const name = flag.slice(2);
      const value = inline ?? argv[++i];
      if (value === undefined || value.startsWith("--")) fail(`${flag} needs a value\n${USAGE}`);
      if (options[name] !== undefined) fail(`${flag} given twice`);
      options[name] = value;
    } else {
      fail(`unexpected argument ${JSON.stringify(arg)}\n${USAGE}`);
    }
  }
  if (options.email === undefined || options.role === undefined) fail(`--email and --role are required\n${USAGE}`);
  const email = options.email.trim().toLowerCase();
  if (email.length > 254 || !EMAIL.test(email)) fail(`not an email address: ${JSON.stringify(options.email)}`);
  if (!ROLES.includes(options.role)) fail(`--role must be one of ${ROLES.join(", ")} (got ${JSON.stringify(options.role)})`);
  return { email, role: options.role, remote: options.remote };
}

function runWrangler(args) {
  return spawnSync(process.execPath, [wrangler, ...args], { cwd: root, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** An SQL string literal; the value has already passed the checks above, quotes are doubled anyway. */
const quote = (value) => `'${value.replace(/'/g, "''")}'`;

const { email, role, remote } = parseArgs(process.argv.slice(2));
const where = remote ? "--remote" : "--local";

if (!remote) {
  // Like `npm start`, so this also works before the first start.
  const migrated = runWrangler(["d1", "migrations", "apply", "DB", "--local"]);
  if (migrated.status !== 0) {
    process.stderr.write(migrated.stdout + migrated.stderr);
    fail("applying the local D1 migrations failed");
  }
}

const sql =
  `UPDATE users SET role = ${quote(role)}, updated_at = ${Date.now()} ` +
  `WHERE email = ${quote(email)} RETURNING id, email, role, is_active`;
const result = runWrangler(["d1", "execute", "DB", where, "--json", "--command", sql]);

let output;
try {
  output = JSON.parse(result.stdout);
} catch {
  process.stderr.write(result.stdout + result.stderr);
  fail(`wrangler d1 execute ${where} failed`);
}
if (result.status !== 0 || !Array.isArray(output) || output[0]?.success !== true) {
  const reason = output?.error?.text ?? JSON.stringify(output);
  fail(`wrangler d1 execute ${where} failed: ${reason}`);
}

const changed = output[0].results ?? [];
if (changed.length === 0) fail(`no user has the email ${email} in the ${remote ? "remote" : "local"} database`);
const user = changed[0];
console.log(`${user.email} (${user.id}) now has role ${user.role} in the ${remote ? "remote" : "local"} database.`);
if (!user.is_active) console.log("Note: this account is deactivated; an admin can reactivate it with PATCH /api/v1/admin/users/{id}.");
console.log("It takes effect on the user's next request: role checks read the stored role, no new sign-in needed.");
if (user.role === "ADMIN") {
  console.log(
    "Reminder: roles in MFA_REQUIRED_ROLES (default ADMIN) must enrol a second factor before any admin route answers them: " +
      "in the console's /account (Security: an authenticator app or a passkey), or by API: POST /api/v1/users/me/mfa/totp, " +
      "then POST /api/v1/users/me/mfa/totp/confirm with a first code.",
  );
}
