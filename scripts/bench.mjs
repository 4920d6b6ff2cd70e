// `npm run bench`: builds the bundle, serves it with one workerd through Miniflare (local D1, KV,
// R2, Durable Objects), drives each flow from a second process with autocannon on 127.0.0.1 for a
// bounded time, and reports requests per second, latency percentiles, errors by status, the
// server's CPU per request, the bundle size and the password hash's cost. Stops what it started.
import { fork, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { buildBundle, root, startServer, workerdCpuSeconds } from "./bench-server.mjs";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const PORT = Number(process.env.BENCH_PORT ?? 8799);
const BASE = `http://127.0.0.1:${PORT}`;
const UNLIMITED = "100000000/60";

const work = join(root, ".bench");
const bundleDir = buildBundle(join(work, "bundle"));
const bundleFiles = readdirSync(bundleDir).filter((f) => f.endsWith(".js") || f.endsWith(".wasm"));
const bundle = {
  bytes: bundleFiles.reduce((n, f) => n + statSync(join(bundleDir, f)).size, 0),
  gzip_bytes: bundleFiles.reduce((n, f) => n + gzipSync(readFileSync(join(bundleDir, f))).length, 0),
};

const codes = new Map();
const persistDir = join(work, `state-${process.pid}`);
rmSync(persistDir, { recursive: true, force: true });
// Email goes through the Resend provider to a fake endpoint in this process, which reads the code:
// the cost of a real HTTP provider call is in the figures, and nothing leaves the machine.
const mf = await startServer({
  bundleDir,
  persistDir,
  port: PORT,
  outbound: async (request) => {
    if (request.url !== "https://api.resend.com/emails") return new Response("not found", { status: 404 });
    const mail = await request.json();
    const code = /\b(\d{6})\b/.exec(mail.text)?.[1];
    if (code) codes.set(mail.to[0], code);
    return Response.json({ id: crypto.randomUUID() });
  },
  // The per-IP and per-address limits would stop a load test from one address.
  vars: {
    MAIL_PROVIDER: "resend",
    RESEND_API_KEY: "re_bench_fake_key",
    LOGIN_IP_LIMIT: UNLIMITED,
    REGISTER_IP_LIMIT: UNLIMITED,
    EMAIL_SENDS_IP_LIMIT: UNLIMITED,
    EMAIL_SENDS_PER_ADDRESS_LIMIT: UNLIMITED,
  },
});

const load = fork(join(root, "scripts/bench-load.mjs"), { stdio: ["ignore", "inherit", "inherit", "ipc"] });

async function waitForCode(email) {
  for (let i = 0; i < 200 && !codes.has(email); i++) await new Promise((r) => setTimeout(r, 10));
  const code = codes.get(email);
  codes.delete(email);
  return code;
}

load.on("message", async (msg) => {
  if (msg.type === "code") load.send({ type: "code", id: msg.id, code: await waitForCode(msg.email) });
});

function runFlow(flow) {
  return new Promise((resolve, reject) => {
    const onMessage = (msg) => {
      if (msg.type !== "result") return;
      load.off("message", onMessage);
      if (msg.error) reject(new Error(msg.error));
      else resolve(msg.result);
    };
    load.on("message", onMessage);
    load.send({ type: "run", flow: { base: BASE, seconds: SECONDS, connections: CONNECTIONS, ...flow } });
  });
}

async function post(path, body) {
  const res = await fetch(`${BASE}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

let results;
try {
  // A verified user, a token for /users/me, and one refresh chain per connection.
  const email = "bench-user@example.com";
  const password = "bench passphrase for load";
  await post("/api/v1/auth/register", { email, password, full_name: "Bench User" });
  const first = await post("/api/v1/auth/verify-email", { email, code: await waitForCode(email), device_id: "bench-0" });
  const chains = [];
  const logins = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const t = await post("/api/v1/auth/login", { email, password, device_id: `chain-${i}` });
    chains.push({ refresh_token: t.refresh_token, device_id: `chain-${i}` });
    // One account per connection for the login flow: the per-account throttle counts attempts in
    // flight, so concurrent logins to one account would be (rightly) slowed down.
    const other = `bench-login-${i}@example.com`;
    await post("/api/v1/auth/register", { email: other, password, full_name: "Bench Login" });
    await post("/api/v1/auth/verify-email", { email: other, code: await waitForCode(other), device_id: "setup" });
    logins.push({ email: other, password, device_id: "bench-login" });
  }

  const flows = [
    { name: "bare (GET /health)", kind: "bare", method: "GET", path: "/health" },
    { name: "GET /users/me", kind: "me", method: "GET", path: "/api/v1/users/me", headers: { authorization: `Bearer ${first.access_token}` } },
    { name: "POST /auth/refresh", kind: "refresh", method: "POST", path: "/api/v1/auth/refresh", refreshChains: chains },
    { name: "POST /auth/login", kind: "login", method: "POST", path: "/api/v1/auth/login", bodies: logins },
    { name: "register + verify", kind: "register" },
  ];
  results = [];
  for (const flow of flows) {
    const cpuBefore = workerdCpuSeconds();
    const r = await runFlow(flow);
    const cpuSeconds = workerdCpuSeconds() - cpuBefore;
    results.push({ flow: flow.name, ...r, cpu_ms_per_request: (cpuSeconds * 1000) / Math.max(1, r.requests) });
  }
} finally {
  load.kill();
  await mf.dispose();
  rmSync(persistDir, { recursive: true, force: true });
}

const hash = JSON.parse(
  spawnSync(process.execPath, [join(root, "scripts/measure-password-hash.mjs"), "10"], { encoding: "utf8" }).stdout.trim().split("\n").at(-1),
);
const ceiling = results[0].rps;
for (const r of results) r.ratio_to_bare = r.rps / ceiling;

const report = {
  date: new Date().toISOString(),
  machine: {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    workerd: JSON.parse(readFileSync(join(root, "node_modules/workerd/package.json"), "utf8")).version,
  },
  settings: { seconds_per_flow: SECONDS, connections: CONNECTIONS },
  bundle,
  password_hash_ms: hash.ms_per_hash,
  flows: results,
};
mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(join(root, "bench/results/latest.json"), `${JSON.stringify(report, null, 2)}\n`);

const pad = (s, n) => String(s).padEnd(n);
console.log(`\nedge-auth benchmark — ${report.machine.cores} × ${report.machine.cpu}, ${SECONDS} s per flow, ${CONNECTIONS} connections`);
console.log(pad("flow", 22) + pad("req/s", 9) + pad("vs bare", 9) + pad("p50 ms", 8) + pad("p90 ms", 8) + pad("p99 ms", 8) + pad("CPU ms/req", 12) + "statuses");
for (const r of results) {
  console.log(
    pad(r.flow, 22) + pad(r.rps.toFixed(0), 9) + pad(`${(r.ratio_to_bare * 100).toFixed(0)} %`, 9) +
      pad(Math.round(r.p50), 8) + pad(Math.round(r.p90), 8) + pad(Math.round(r.p99), 8) +
      pad(r.cpu_ms_per_request.toFixed(2), 12) + JSON.stringify(r.statusCounts),
  );
}
console.log(`bundle: ${(bundle.bytes / 1024).toFixed(0)} KiB, ${(bundle.gzip_bytes / 1024).toFixed(0)} KiB gzipped; argon2id: ${hash.ms_per_hash} ms per hash`);
console.log("written to bench/results/latest.json");
