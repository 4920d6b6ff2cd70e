// `npm start`: development vars and secrets in .dev.vars (whatever is missing), local D1 migrations,
// the web console built into public/console/, then `wrangler dev` on 127.0.0.1:8787. wrangler.toml holds production's settings; .dev.vars
// overrides them here. Everything stays on this machine: local bindings, no telemetry, no update check.
import { spawnSync, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { completeDevVars } from "./dev-vars.mjs";
import { root, wranglerBin as wrangler, wranglerEnv as env } from "./wrangler-env.mjs";

function ensureDevVars() {
  const path = `${root}/.dev.vars`;
  const { text, added } = completeDevVars(existsSync(path) ? readFileSync(path, "utf8") : "");
  if (added.length === 0) return;
  writeFileSync(path, text, { mode: 0o600 });
  console.log(`[start] wrote development settings to .dev.vars: ${added.join(", ")}`);
}

function run(args) {
  const result = spawnSync(process.execPath, [wrangler, ...args], { cwd: root, env, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

ensureDevVars();
run(["d1", "migrations", "apply", "DB", "--local"]);
const built = spawnSync(process.execPath, [`${root}/scripts/build-console.mjs`], { cwd: root, env, stdio: "inherit" });
if (built.status !== 0) process.exit(built.status ?? 1);
const dev = spawn(process.execPath, [wrangler, "dev", "--local", "--ip", "127.0.0.1", "--port", "8787", ...process.argv.slice(2)], {
  cwd: root,
  env,
  stdio: "inherit",
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code) => process.exit(code ?? 0));
