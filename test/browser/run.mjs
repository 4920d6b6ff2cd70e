// `npm run test:browser`: the built SDK (sdk/dist/index.js) in two tabs of headless Chromium, then the
// web console (console-checks.mjs), against the Worker's bundle (its static assets and console
// included) in Miniflare behind a small page server on 127.0.0.1 that serves the SDK's test page and
// passes everything else to the Worker, counting the refresh requests that reach it. Then passkeys
// (passkey-checks.mjs) on the same server opened as http://localhost:<port>, and the
// reauthentication prompt on a second Worker whose sign-ins stop being recent after a few seconds.
// Ends with "N passed, M failed" (read by .ci/run).
import { createServer } from "node:http";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { buildBundle, root, startServer } from "../../bench/bench-server.mjs";
import { consoleChecks, SCREENSHOTS } from "./console-checks.mjs";
import { passkeyChecks } from "./passkey-checks.mjs";

const CHROMIUM = "/usr/bin/chromium";
// Short enough to wait out in a test, long enough that a token just refreshed cannot expire again
// before a loaded machine uses it (with 3 s, a slow CI run saw the adopted token expire in flight).
const ACCESS_TTL_SECONDS = 8;
// Refreshes are held this long at the page server, so that the second tab's call surely starts while
// the first tab's refresh is in flight.
const REFRESH_DELAY_MS = 300;
// The second Worker, for the reauthentication prompt: a sign-in this old (instead of 10 minutes) is
// no longer recent, so the check waits it out rather than faking the clock or the server.
const REAUTH_MAX_AGE_SECONDS = 8;

const sdkFile = join(root, "sdk/dist/index.js");
if (!existsSync(sdkFile)) throw new Error("sdk/dist/index.js is missing: run `npm run build:sdk` first");

const work = mkdtempSync(join(tmpdir(), "edge-auth-browser-"));
const delivered = [];
let refreshes = 0;
const results = [];
let mf, server, browser, reauthMf, reauthServer;

async function check(name, fn) {
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`  ✓ ${name}`);
  } catch (err) {
    results.push({ name, ok: false });
    console.log(`  ✗ ${name}\n    ${err?.stack ?? err}`);
    await failureScreenshots(results.length);
  }
}

/** What each open tab showed when a check failed, for a person to look at. */
async function failureScreenshots(n) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const pages = browser?.contexts().flatMap((c) => c.pages()) ?? [];
  for (const [i, page] of pages.entries()) await page.screenshot({ path: join(SCREENSHOTS, `failed-${n}-${i}.png`) }).catch(() => {});
}

function assertEqual(actual, expected, what) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

async function proxy(req, res, mf) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const url = new URL(req.url, `http://${req.headers.host}`);
  if (req.method === "POST" && url.pathname.replace(/\/$/, "") === "/api/v1/auth/refresh") {
    refreshes++;
    await new Promise((resolve) => setTimeout(resolve, REFRESH_DELAY_MS));
  }
  const headers = Object.entries(req.headers).filter(([name]) => !["host", "connection", "content-length"].includes(name));
  const answer = await mf.dispatchFetch(url, {
    method: req.method,
    headers,
    body: chunks.length && req.method !== "GET" && req.method !== "HEAD" ? Buffer.concat(chunks) : undefined,
  });
  const body = Buffer.from(await answer.arrayBuffer());
  res.writeHead(answer.status, Object.fromEntries([...answer.headers].filter(([name]) => name !== "content-encoding" && name !== "content-length")));
  res.end(body);
}

/** `worker()`: the Miniflare this server passes requests to (started once the server's port is known). */
function pageServer(worker) {
  const page = readFileSync(new URL("page.html", import.meta.url));
  return createServer((req, res) => {
    if (req.url === "/sdk-test") return void res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(page);
    if (req.url === "/sdk/index.js") return void res.writeHead(200, { "Content-Type": "text/javascript" }).end(readFileSync(sdkFile));
    proxy(req, res, worker()).catch((err) => res.writeHead(502).end(String(err)));
  });
}

const listen = async (s) => {
  await new Promise((resolve) => s.listen(0, "127.0.0.1", resolve));
  return s.address().port;
};
const onLog = (line) => {
  if (line.startsWith("[delivery] ")) delivered.push(JSON.parse(line.slice("[delivery] ".length)));
};

function lastCode(email) {
  const msg = delivered.filter((m) => m.to === email).at(-1);
  const code = msg && /\b(\d{6})\b/.exec(msg.text)?.[1];
  if (!code) throw new Error(`no code delivered to ${email}`);
  return code;
}

async function waitFor(what, predicate, ms = 5000) {
  const until = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

try {
  // The page server first: its origin is the console's, where emailed links must land.
  server = pageServer(() => mf);
  const port = await listen(server);
  const origin = `http://127.0.0.1:${port}`;
  // Browsers refuse an IP address as a WebAuthn RP ID: the passkey checks open the same server as
  // http://localhost:<port> (RP ID `localhost`, as in local development).
  const passkeyOrigin = `http://localhost:${port}`;
  const webauthn = (o) => ({ WEBAUTHN_RP_ID: "localhost", WEBAUTHN_ORIGINS: o });

  console.log("[test:browser] building the Worker's bundle");
  const bundleDir = buildBundle(join(work, "bundle"));
  mf = await startServer({
    bundleDir,
    persistDir: join(work, "state"),
    port: 0,
    vars: { ACCESS_TOKEN_TTL_SECONDS: String(ACCESS_TTL_SECONDS), PUBLIC_BASE_URL: origin, FRONTEND_URL: origin, ...webauthn(passkeyOrigin) },
    onLog,
  });
  reauthServer = pageServer(() => reauthMf);
  const reauthOrigin = `http://localhost:${await listen(reauthServer)}`;
  reauthMf = await startServer({
    bundleDir,
    persistDir: join(work, "state-reauth"),
    port: 0,
    vars: { PUBLIC_BASE_URL: reauthOrigin, FRONTEND_URL: reauthOrigin, REAUTH_MAX_AGE_SECONDS: String(REAUTH_MAX_AGE_SECONDS), ...webauthn(reauthOrigin) },
    onLog,
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // --process-per-site: tabs of one origin share a renderer, so one tab's localStorage write is seen
    // by the next tab that takes the refresh lock. Across renderers Chromium syncs localStorage
    // asynchronously, and a tab may then re-read the spent token and send it again: the server's
    // grace window answers it with the same pair (docs/sdk.md), but this test counts requests.
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--process-per-site"],
  });
  // One context: the two tabs share localStorage, BroadcastChannel and Web Locks, as tabs of one browser do.
  const context = await browser.newContext();
  const tabs = [await context.newPage(), await context.newPage()];
  for (const tab of tabs) {
    tab.on("pageerror", (err) => console.log(`    page error: ${err.message}`));
    await tab.goto(`${origin}/sdk-test`);
    await tab.waitForFunction(() => window.sdkReady === true);
  }
  const [first, second] = tabs;
  console.log(`[test:browser] Chromium ${browser.version()}, page at ${origin}`);

  const email = `browser-${crypto.randomUUID().slice(0, 12)}@example.com`;
  const password = "correct horse battery staple";

  await check("signing in in one tab is seen by the other", async () => {
    await first.evaluate(({ email, password }) => client.register({ email, password, full_name: "Browser User" }), { email, password });
    await waitFor("the verification email", () => delivered.some((m) => m.to === email));
    await first.evaluate(({ email, code }) => client.verifyEmail({ email, code }), { email, code: lastCode(email) });
    await waitFor("SIGNED_IN in the other tab", () => second.evaluate(() => window.authEvents.includes("SIGNED_IN")));
    assertEqual(await second.evaluate(async () => (await client.getSession())?.user?.email), email, "the other tab's session");
    assertEqual(await first.evaluate(() => typeof navigator.locks?.request), "function", "Web Locks in the page");
  });

  await check("two tabs calling client.fetch at once after the access token expired send one refresh, and both succeed", async () => {
    await new Promise((resolve) => setTimeout(resolve, (ACCESS_TTL_SECONDS + 1) * 1000));
    const before = refreshes;
    const call = () => client.fetch("/api/v1/users/me").then((r) => r.status);
    const statuses = await Promise.all([first.evaluate(call), second.evaluate(call)]);
    assertEqual(statuses, [200, 200], "both calls");
    assertEqual(refreshes - before, 1, "refresh requests that reached the server");
    const events = await Promise.all(tabs.map((tab) => tab.evaluate(() => window.authEvents)));
    assertEqual(events.flat().includes("SIGNED_OUT"), false, "nobody signed out");
  });

  await check("signing out in one tab signs out the other", async () => {
    await first.evaluate(() => client.logout());
    await waitFor("SIGNED_OUT in the other tab", () => second.evaluate(() => window.authEvents.includes("SIGNED_OUT")));
    assertEqual(await second.evaluate(() => client.getSession()), null, "the other tab's session");
    assertEqual(await second.evaluate(() => client.fetch("/api/v1/users/me").then((r) => r.status)), 401, "the other tab's call");
  });

  await context.close();
  await consoleChecks({ browser, origin, check, assertEqual, waitFor, delivered, refreshes: () => refreshes,
    accessTtlSeconds: ACCESS_TTL_SECONDS,
    db: await mf.getD1Database("DB"),
  });
  await passkeyChecks({ browser, check, assertEqual, waitFor, delivered, passkeyOrigin, reauthOrigin, reauthMaxAgeSeconds: REAUTH_MAX_AGE_SECONDS });
} catch (err) {
  results.push({ name: "setup", ok: false });
  console.log(`  ✗ setup\n    ${err?.stack ?? err}`);
} finally {
  await browser?.close();
  server?.close();
  reauthServer?.close();
  await mf?.dispose();
  await reauthMf?.dispose();
  rmSync(work, { recursive: true, force: true });
}

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed || passed === 0 ? 1 : 0);
