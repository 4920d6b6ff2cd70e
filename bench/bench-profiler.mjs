// A V8 CPU profile of one Worker's isolate, through workerd's inspector (Miniflare's
// `inspectorPort`): how much CPU the Worker itself spent, apart from Miniflare's local D1, KV and
// R2 simulators (other isolates in the same workerd process), and where it went.
import { writeFileSync } from "node:fs";

/** Connects to the inspector target of the named Worker; returns a small CDP client. */
export async function connectProfiler(inspectorPort, workerName) {
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json();
  const target = targets.find((t) => t.id === `core:user:${workerName}`) ?? targets.find((t) => t.id.endsWith(workerName));
  if (!target) throw new Error(`no inspector target for ${workerName}: ${targets.map((t) => t.id).join(", ")}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", reject, { once: true });
  });
  let nextId = 1;
  const pending = new Map();
  ws.addEventListener("message", (event) => {
    const msg = JSON.parse(String(event.data));
    if (msg.id && pending.has(msg.id)) {
      const { resolve, reject } = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) reject(new Error(msg.error.message));
      else resolve(msg.result);
    }
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 200 });
  return {
    /** Profiles `run()`; returns the isolate's busy milliseconds and its top functions by self time. */
    async profile(run) {
      await send("Profiler.start");
      const result = await run();
      const { profile } = await send("Profiler.stop");
      // BENCH_PROFILE_RAW=<path prefix> also keeps the raw profile (Chrome DevTools opens it).
      if (process.env.BENCH_PROFILE_RAW) writeFileSync(`${process.env.BENCH_PROFILE_RAW}-${Date.now()}.cpuprofile`, JSON.stringify(profile));
      return { result, ...summarize(profile) };
    },
    close: () => ws.close(),
  };
}

function summarize(profile) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000; // the delta after a sample is the time it stands for
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
  }
  const byFunction = new Map();
  let busyMs = 0;
  let wasmMs = 0;
  for (const [id, ms] of self) {
    const { callFrame } = nodes.get(id);
    const name = callFrame.functionName || "(anonymous)";
    if (name === "(idle)") continue;
    busyMs += ms;
    if (callFrame.url.startsWith("wasm://")) wasmMs += ms;
    const file = callFrame.url ? callFrame.url.split("/").at(-1) : "";
    const key = file ? `${name} ${file}:${callFrame.lineNumber + 1}` : name;
    byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
  }
  const top = [...byFunction.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([fn, ms]) => ({ function: fn, self_ms: Number(ms.toFixed(1)), share: Number((ms / busyMs).toFixed(3)) }));
  return { busyMs, wasmMs, top };
}
