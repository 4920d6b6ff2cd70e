// The load generator, a second process (forked by bench/bench.mjs): autocannon for the
// single-request flows; small loops of real HTTP requests for register + verify, which needs the
// code the server logs (asked of the parent over IPC), and for password + TOTP sign-in, which needs
// the authenticator app's code of the moment. Only 127.0.0.1 is ever a target.
import autocannon from "autocannon";
import { Secret, TOTP } from "otpauth";

const pendingCodes = new Map();
let nextAsk = 0;
process.on("message", async (msg) => {
  if (msg.type === "code") {
    pendingCodes.get(msg.id)?.(msg.code);
    pendingCodes.delete(msg.id);
    return;
  }
  if (msg.type !== "run") return;
  try {
    const loops = { register: registerLoop, mfa: mfaLoop, many: manyUsersLoop };
    const result = await (loops[msg.flow.kind] ?? cannon)(msg.flow);
    process.send({ type: "result", result });
  } catch (err) {
    process.send({ type: "result", error: String(err?.stack ?? err) });
  }
});

function assertLocal(base) {
  const { hostname } = new URL(base);
  if (hostname !== "127.0.0.1" && hostname !== "localhost") throw new Error(`refusing to load ${hostname}`);
}

function summary(statusCounts, requests, seconds, latencies) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0);
  return { requests, seconds, rps: requests / seconds, p50: pct(50), p90: pct(90), p99: pct(99), statusCounts };
}

async function cannon(flow) {
  assertLocal(flow.base);
  const tokens = [...(flow.refreshChains ?? [])];
  const request = {
    method: flow.method,
    path: flow.path,
    headers: { "content-type": "application/json", ...(flow.headers ?? {}) },
  };
  if (flow.body) request.body = JSON.stringify(flow.body);
  let setupClient;
  if (flow.bodies || flow.kind === "refresh") {
    // Each connection keeps its own chain and always sends its newest refresh token. autocannon
    // clears a connection's context after each cycle, so the context only carries the chain's index
    // (set as that connection's initial context) and the chains live here.
    let next = 0;
    setupClient = (client) => {
      const index = next++;
      client.requestIterator.initialContext = { index };
      client.requestIterator.resetContext();
      client.requestIterator.rebuildRequest();
    };
    request.setupRequest = (req, context) => {
      if (context.index === undefined) return req; // built once before setupClient runs; rebuilt before it is sent
      if (flow.bodies) return { ...req, body: JSON.stringify(flow.bodies[context.index % flow.bodies.length]) };
      const chain = tokens[context.index];
      return { ...req, body: JSON.stringify({ refresh_token: chain.refresh_token, device_id: chain.device_id }) };
    };
    if (flow.kind === "refresh") {
      request.onResponse = (status, body, context) => {
        if (status === 200) tokens[context.index].refresh_token = JSON.parse(body).refresh_token;
      };
    }
  }
  const result = await autocannon({
    url: flow.base,
    connections: flow.connections,
    duration: flow.seconds,
    requests: [request],
    setupClient,
  });
  const statusCounts = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statusCounts[code] = count;
  if (result.errors) statusCounts.socket_errors = result.errors;
  if (result.timeouts) statusCounts.timeouts = result.timeouts;
  return {
    requests: result.requests.total,
    seconds: result.duration,
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    statusCounts,
  };
}

function askCode(email) {
  const id = nextAsk++;
  return new Promise((resolve) => {
    pendingCodes.set(id, resolve);
    process.send({ type: "code", id, email });
  });
}

async function timedFetch(url, body, latencies, statusCounts) {
  const start = performance.now();
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  latencies.push(performance.now() - start);
  statusCounts[res.status] = (statusCounts[res.status] ?? 0) + 1;
  return res;
}

/** register + verify-email, each worker in a loop until the time is up. */
async function registerLoop(flow) {
  assertLocal(flow.base);
  const latencies = [];
  const statusCounts = {};
  const end = Date.now() + flow.seconds * 1000;
  const started = Date.now();
  let n = 0;
  const worker = async (w) => {
    while (Date.now() < end) {
      const email = `bench-${process.pid}-${w}-${n++}@example.com`;
      const reg = await timedFetch(`${flow.base}/api/v1/auth/register`, { email, password: "bench passphrase for load", full_name: "Bench" }, latencies, statusCounts);
      if (reg.status !== 202) continue;
      const code = await askCode(email);
      if (code) await timedFetch(`${flow.base}/api/v1/auth/verify-email`, { email, code, device_id: "bench" }, latencies, statusCounts);
    }
  };
  await Promise.all(Array.from({ length: flow.connections }, (_, w) => worker(w)));
  return summary(statusCounts, latencies.length, (Date.now() - started) / 1000, latencies);
}

/**
 * Password + TOTP sign-in: POST /auth/login answers the challenge, POST /auth/mfa/verify finishes it
 * with the app's code. A TOTP step is accepted once per user (replay), so each sign-in takes a user
 * of its own from `flow.users` and sends the next step's code (inside the ±1 step window, and later
 * than the step that confirmed the enrolment). Counted per sign-in: both requests, one latency.
 */
async function mfaLoop(flow) {
  assertLocal(flow.base);
  const latencies = [];
  const statusCounts = {};
  const end = Date.now() + flow.seconds * 1000;
  const started = Date.now();
  const users = [...flow.users];
  const worker = async () => {
    for (let user = users.pop(); user && Date.now() < end; user = users.pop()) {
      const start = performance.now();
      const post = async (path, body) => {
        const res = await fetch(`${flow.base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
        statusCounts[res.status] = (statusCounts[res.status] ?? 0) + 1;
        return { status: res.status, body: await res.json() };
      };
      const login = await post("/api/v1/auth/login", { email: user.email, password: user.password, device_id: "bench-mfa" });
      if (login.status !== 200 || !login.body.mfa_token) continue;
      const app = new TOTP({ secret: Secret.fromBase32(user.secret), algorithm: "SHA1", digits: 6, period: 30 });
      const code = app.generate({ timestamp: Date.now() + 30_000 });
      const verified = await post("/api/v1/auth/mfa/verify", { mfa_token: login.body.mfa_token, method: "totp", code });
      if (verified.status === 200) latencies.push(performance.now() - start);
    }
  };
  await Promise.all(Array.from({ length: flow.connections }, () => worker()));
  return summary(statusCounts, latencies.length, (Date.now() - started) / 1000, latencies);
}

/**
 * Many users on GET /users/me: each connection takes the next session of `flow.tokens` (one per
 * user, in random order) and sends its `flow.uses` requests one after another, as an app does when it
 * opens; then the next session. Every session is used, whatever `flow.seconds`. The isolate's cache
 * keeps a session and its user for `flow.cacheMs` after the request that read them, so the hit rate is
 * counted from the requests' own times: a request that starts before its session's entry expires
 * (the start of the last miss plus `cacheMs`, the earliest the entry can have been stored) is a hit. One workerd, one isolate: that is its cache.
 */
async function manyUsersLoop(flow) {
  assertLocal(flow.base);
  const latencies = [];
  const statusCounts = {};
  const queue = flow.tokens.map((token, i) => ({ token, i })).sort(() => Math.random() - 0.5);
  let hits = 0;
  const started = Date.now();
  const worker = async () => {
    for (let s = queue.pop(); s; s = queue.pop()) {
      let cachedUntil = -Infinity;
      for (let u = 0; u < flow.uses; u++) {
        const start = performance.now();
        const res = await fetch(`${flow.base}${flow.path}`, { headers: { authorization: `Bearer ${s.token}` } });
        await res.arrayBuffer();
        const end = performance.now();
        latencies.push(end - start);
        statusCounts[res.status] = (statusCounts[res.status] ?? 0) + 1;
        if (start < cachedUntil) hits++;
        else cachedUntil = start + flow.cacheMs;
      }
    }
  };
  await Promise.all(Array.from({ length: flow.connections }, () => worker()));
  return { ...summary(statusCounts, latencies.length, (Date.now() - started) / 1000, latencies), sessions: flow.tokens.length, hit_rate: hits / latencies.length };
}
