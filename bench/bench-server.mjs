// One workerd, started through Miniflare from the bundle `wrangler deploy --dry-run` builds, with
// local D1, KV, R2 and Durable Objects: the runtime without wrangler dev's proxy and inspector.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { argon2Worker } from "./argon2-worker.mjs";
import { devSecrets } from "../scripts/dev-secrets.mjs";
import { DEV_VARS } from "../scripts/dev-vars.mjs";
import { root, wranglerBin as wrangler, wranglerEnv as quietEnv } from "../scripts/wrangler-env.mjs";

export { root };

/** Builds the deployable bundle; returns its directory. */
export function buildBundle(outdir) {
  rmSync(outdir, { recursive: true, force: true });
  const r = spawnSync(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", outdir], {
    cwd: root,
    env: quietEnv,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`bundle build failed:\n${r.stdout}\n${r.stderr}`);
  return outdir;
}

/**
 * Starts the bundle on host:port. `onLog` receives every console line of the Worker (the console
 * delivery provider's codes among them). Limits that would stop a load test are lifted.
 */
export async function startServer(options) {
  const mf = newServer(options);
  await mf.ready;
  await applyMigrations(await mf.getD1Database("DB"));
  return mf;
}

/**
 * A fresh workerd with the bundle, timed: from `new Miniflare` to ready (the process, the runtime
 * and the Worker's isolate with its startup), then the first answer to `path` (with `headers`) and a
 * second, warm one. Stopped before it returns.
 */
export async function coldStart(options, path, headers = {}) {
  const start = performance.now();
  const mf = newServer(options);
  try {
    await mf.ready;
    const ready = performance.now();
    const url = `http://${options.host ?? "127.0.0.1"}:${options.port}${path}`;
    const first = await fetch(url, { headers });
    await first.arrayBuffer();
    const answered = performance.now();
    const again = await fetch(url, { headers });
    await again.arrayBuffer();
    const warm = performance.now();
    if (first.status !== 200 || again.status !== 200) throw new Error(`cold start: ${path} answered ${first.status}, ${again.status}`);
    return { ready_ms: ready - start, first_answer_ms: answered - ready, to_first_answer_ms: answered - start, warm_answer_ms: warm - answered };
  } finally {
    await mf.dispose();
  }
}

/**
 * The startup CPU of the Worker as `wrangler check startup` measures it (a V8 profile of the
 * isolate's startup, the bundle built as for deploy): the "Active" time, the lowest of `runs` (this
 * machine is shared; the lowest is the one least slowed by others).
 */
export function startupCpuMs(runs = 3, profileFile) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(process.execPath, [wrangler, "check", "startup", "--outfile", profileFile], { cwd: root, env: quietEnv, encoding: "utf8" });
    const active = /Active:\s*([\d.]+)\s*ms/.exec(r.stdout + r.stderr);
    if (r.status !== 0 || !active) throw new Error(`wrangler check startup failed:\n${r.stdout}\n${r.stderr}`);
    times.push(Number(active[1]));
  }
  return { min_ms: Math.min(...times), runs_ms: times };
}

function newServer({ bundleDir, persistDir, host = "127.0.0.1", port = 8787, onLog, outbound, vars = {}, inspectorPort }) {
  mkdirSync(persistDir, { recursive: true });
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(root, "wrangler.toml"));
  // The entry module first: workerd takes the first module as the main one.
  const modules = readdirSync(bundleDir)
    .filter((f) => f.endsWith(".js") || f.endsWith(".wasm"))
    .sort((a, b) => (a === "index.js" ? -1 : b === "index.js" ? 1 : a.localeCompare(b)));
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host,
      port,
      // Miniflare would print every request from this process: work that is not the Worker's.
      logRequests: false,
      ...(inspectorPort ? { inspectorPort } : {}),
      defaultPersistRoot: persistDir,
      handleStructuredLogs: ({ message }) => onLog?.(message),
      workers: [
        {
          ...workerOptions,
          name: "edge-auth",
          modulesRoot: bundleDir,
          modules: modules.map((file) => ({
            type: file.endsWith(".wasm") ? "CompiledWasm" : "ESModule",
            path: join(bundleDir, file),
            contents: readFileSync(join(bundleDir, file)),
          })),
          // wrangler.toml holds production's settings: the benchmark runs with the development ones.
          bindings: { ...workerOptions.bindings, ...DEV_VARS, ...devSecrets("bench"), ...vars },
          // Every outbound request of the Worker is answered here, in this process: nothing leaves
          // the machine.
          outboundService: outbound ?? (() => new Response("no network in the benchmark", { status: 503 })),
        },
      ],
    }),
  );
  return mf;
}

export async function applyMigrations(db) {
  const dir = join(root, "migrations");
  await db.exec("CREATE TABLE IF NOT EXISTS bench_migrations (name TEXT PRIMARY KEY)");
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
    const done = await db.prepare("SELECT 1 FROM bench_migrations WHERE name = ?").bind(file).first();
    if (done) continue;
    const statements = readFileSync(join(dir, file), "utf8")
      .split("--> statement-breakpoint")
      .map((s) => s.trim())
      .filter(Boolean);
    await db.batch([...statements.map((s) => db.prepare(s)), db.prepare("INSERT INTO bench_migrations VALUES (?)").bind(file)]);
  }
}

/**
 * A Worker that does nothing but one argon2id check per request (the library and parameters of
 * src/domain/passwords.ts), served like the bundle: the hash's cost under the same load as the login
 * flow, to set beside it.
 */
export async function startHashServer({ host = "127.0.0.1", port }) {
  const worker = `
import Argon2 from "./argon2.js";
import wasm from "./argon2.wasm";
const opts = { memoryCost: 19456, timeCost: 2, parallelism: 1, hashLength: 32, type: 2, version: 19 };
let ready;
export default {
  async fetch() {
    ready ??= WebAssembly.instantiate(wasm).then((m) => {
      const a = new Argon2(m);
      return { a, encoded: a.hash("bench passphrase for load", opts).encoded };
    });
    const { a, encoded } = await ready;
    return Response.json({ ok: a.tryVerify(encoded, "bench passphrase for load", 2).success });
  },
};`;
  const mf = new Miniflare({ host, port, logRequests: false, workers: [argon2Worker(worker)] });
  await mf.ready;
  return mf;
}

/** The workerd processes this process started, with their /proc stat fields after the name. */
export function workerdChildren() {
  const children = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue;
    }
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (comm === "workerd" && Number(fields[1]) === process.pid) children.push({ pid: Number(pid), fields });
  }
  return children;
}

/** CPU seconds (user + system) used so far by the workerd processes this process started. */
export function workerdCpuSeconds() {
  const ticks = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;
  return workerdChildren().reduce((total, { fields }) => total + (Number(fields[11]) + Number(fields[12])) / ticks, 0);
}
