// Measures argon2id (the parameters in src/domain/passwords.ts) inside workerd, the runtime that
// runs the Worker, through Miniflare: not in Node and not in the test pool (which wraps modules
// and distorts crypto timings). Prints milliseconds per hash.
import { Miniflare } from "miniflare";
import { argon2Worker } from "./argon2-worker.mjs";

const rounds = Number(process.argv[2] ?? 20);

const worker = `
import Argon2 from "./argon2.js";
import wasm from "./argon2.wasm";
export default {
  async fetch(request) {
    const rounds = Number(new URL(request.url).searchParams.get("n"));
    const a = new Argon2(await WebAssembly.instantiate(wasm));
    const opts = { memoryCost: 19456, timeCost: 2, parallelism: 1, hashLength: 32, type: 2, version: 19 };
    for (let i = 0; i < rounds; i++) {
      const { encoded } = a.hash("correct horse battery staple " + i, opts);
      a.verify(encoded, "correct horse battery staple " + i);
    }
    return Response.json({ rounds });
  },
};`;

const mf = new Miniflare({ workers: [argon2Worker(worker)] });

// workerd freezes clocks while code runs (a Spectre mitigation), so time requests from outside and
// subtract a request that does no hashing.
async function timed(n) {
  const t0 = process.hrtime.bigint();
  await (await mf.dispatchFetch(`http://localhost/?n=${n}`)).json();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

try {
  await timed(1); // warm up: compile and instantiate
  const base = Math.min(await timed(0), await timed(0), await timed(0));
  const total = await timed(rounds);
  const perHash = (total - base) / (rounds * 2);
  console.log(JSON.stringify({ algorithm: "argon2id m=19456 t=2 p=1", operations: rounds * 2, ms_per_hash: Number(perHash.toFixed(1)) }));
} finally {
  await mf.dispose();
}
