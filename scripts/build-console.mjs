// `npm run build:console`: the web console (console/) into public/console/, which the Worker serves
// through [assets]; then the JavaScript a browser downloads, gzipped, which must stay under 60 KiB.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "vite";
import { root } from "./wrangler-env.mjs";

const LIMIT = 60 * 1024;
const started = Date.now();
await build({ configFile: join(root, "console/vite.config.ts") });

const assets = join(root, "public/console/assets");
const scripts = readdirSync(assets).filter((f) => f.endsWith(".js"));
const gzipped = scripts.reduce((sum, f) => sum + gzipSync(readFileSync(join(assets, f)), { level: 9 }).length, 0);
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(`[build:console] public/console: ${scripts.length} script(s), ${(gzipped / 1024).toFixed(2)} KiB gzipped (limit 60 KiB), ${seconds} s`);
if (gzipped >= LIMIT) {
  console.error("[build:console] over the size budget");
  process.exit(1);
}
