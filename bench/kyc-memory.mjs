// `npm run bench:kyc-memory`: how much the server's memory grows under four concurrent oversized
// KYC uploads from one user (security audit finding 2). Builds the bundle, serves it with one
// workerd through Miniflare on 127.0.0.1 (bench/bench-server.mjs), signs a user up, then sends
// four ~30 MiB multipart bodies at once, each streamed from a reused 1 MiB buffer with a declared
// Content-Length just under the upload limit and one file part three times KYC_MAX_FILE_BYTES.
// It samples workerd's VmRSS (/proc/<pid>/status) every 20 ms and prints the growth over the
// baseline; it passes when the growth stays under 40 MiB. Stops what it started.
import { request } from "node:http";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { buildBundle, root, startServer, workerdChildren } from "./bench-server.mjs";

const PORT = Number(process.env.BENCH_PORT ?? 8811);
const UPLOADS = Number(process.env.BENCH_UPLOADS ?? 4);
const BUDGET_MIB = 40;
const MIB = 1024 * 1024;
const MAX_FILE_BYTES = 10 * MIB; // KYC_MAX_FILE_BYTES in wrangler.toml
const UPLOAD_LIMIT = 3 * MAX_FILE_BYTES + 64 * 1024; // kycUploadLimit() in src/routes/kyc.ts
const BOUNDARY = "kyc-memory-bench";
const PNG_HEAD = Buffer.from("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489", "hex");

const work = join(root, ".bench");
const persistDir = join(work, `kyc-memory-${process.pid}`);
const codes = new Map();
const bundleDir = buildBundle(join(work, "kyc-memory-bundle"));
const mf = await startServer({
  bundleDir,
  persistDir,
  port: PORT,
  onLog: (line) => {
    const match = /^\[delivery\] (.*)$/.exec(line);
    if (!match) return;
    const message = JSON.parse(match[1]);
    const code = /\b(\d{6})\b/.exec(message.text)?.[1];
    if (code) codes.set(message.to, code);
  },
});

try {
  const pid = workerdPid();
  const token = await signUp();
  // Warm the route's code (auth, the multipart parser, file-type) with one small refused upload.
  const warm = await upload(token, { fileBytes: 1024, png: false });
  console.log(`[kyc-memory] workerd pid ${pid}; warm-up upload answered ${warm.status}`);
  await sleep(500);

  const baseline = rss(pid);
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, rss(pid))), 20);
  const started = Date.now();
  // Oversized: the declared length passes the 413 check, the one file part does not pass the
  // per-file limit; everything the client sends is real bytes on the socket.
  const bodyBytes = UPLOAD_LIMIT - 1024;
  const answers = await Promise.all(
    Array.from({ length: UPLOADS }, () => upload(token, { fileBytes: bodyBytes - 512, png: true })),
  );
  const seconds = (Date.now() - started) / 1000;
  await sleep(300);
  peak = Math.max(peak, rss(pid));
  clearInterval(sampler);
  const after = rss(pid);

  const growth = (peak - baseline) / 1024;
  const statuses = answers.map((a) => `${a.status}${a.code ? ` ${a.code}` : ""}`);
  console.log(`[kyc-memory] ${UPLOADS} concurrent uploads of ${(bodyBytes / MIB).toFixed(1)} MiB in ${seconds.toFixed(1)} s: ${statuses.join(", ")}`);
  console.log(`[kyc-memory] client bytes sent: ${answers.map((a) => (a.sent / MIB).toFixed(1)).join(", ")} MiB`);
  console.log(
    `[kyc-memory] workerd VmRSS: baseline ${(baseline / 1024).toFixed(1)} MiB, peak ${(peak / 1024).toFixed(1)} MiB, ` +
      `after ${(after / 1024).toFixed(1)} MiB`,
  );
  const ok = growth < BUDGET_MIB;
  console.log(`[kyc-memory] growth ${growth.toFixed(1)} MiB: ${ok ? "under" : "NOT under"} ${BUDGET_MIB} MiB`);
  process.exitCode = ok ? 0 : 1;
} finally {
  await mf.dispose();
  rmSync(persistDir, { recursive: true, force: true });
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** The workerd process Miniflare started for this process. */
function workerdPid() {
  const [child] = workerdChildren();
  if (!child) throw new Error("no workerd child process found");
  return child.pid;
}

/** Resident set size in KiB. */
function rss(pid) {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
  return Number(/(\d+)/.exec(line)[1]);
}

async function postJson(path, body) {
  const res = await fetch(`http://127.0.0.1:${PORT}/api/v1${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function signUp() {
  const email = `kyc-memory-${process.pid}@example.com`;
  const reg = await postJson("/auth/register", { email, password: "bench passphrase for memory", full_name: "Bench" });
  if (reg.status !== 202) throw new Error(`register answered ${reg.status}`);
  for (let i = 0; i < 200 && !codes.has(email); i++) await sleep(10);
  const verified = await postJson("/auth/verify-email", { email, code: codes.get(email), device_id: "bench" });
  if (verified.status !== 200) throw new Error(`verify-email answered ${verified.status}`);
  return verified.body.access_token;
}

/**
 * One multipart upload with a `fileBytes` file part (a PNG header and zeros, or only zeros, which
 * no file check accepts), streamed from a reused buffer with the socket's backpressure. Stops
 * sending when the server answers.
 */
function upload(token, { fileBytes, png }) {
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="document_type"\r\n\r\npassport\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="front"; filename="front.png"\r\nContent-Type: image/png\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  const chunk = Buffer.alloc(MIB);
  const length = head.length + fileBytes + tail.length;
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request({
      host: "127.0.0.1",
      port: PORT,
      method: "POST",
      path: "/api/v1/kyc/submit",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": `multipart/form-data; boundary=${BOUNDARY}`,
        "content-length": String(length),
      },
    });
    req.on("response", (res) => {
      answered = true;
      const parts = [];
      res.on("data", (d) => parts.push(d));
      res.on("end", () => {
        let code;
        try {
          code = JSON.parse(Buffer.concat(parts).toString()).code;
        } catch {
          code = undefined;
        }
        resolve({ status: res.statusCode, code, sent });
        req.destroy();
      });
    });
    // The server may answer and close before the whole body is sent: that is the point.
    req.on("error", (err) => (answered ? undefined : reject(err)));
    const write = (buf) => {
      sent += buf.length;
      return req.write(buf);
    };
    const first = png ? PNG_HEAD : Buffer.alloc(0);
    write(Buffer.concat([head, first]));
    let remaining = fileBytes - first.length;
    const pump = () => {
      while (remaining > 0 && !answered) {
        const piece = remaining >= chunk.length ? chunk : chunk.subarray(0, remaining);
        remaining -= piece.length;
        if (!write(piece)) return void req.once("drain", pump);
      }
      if (!answered) req.end(tail);
    };
    pump();
  });
}
