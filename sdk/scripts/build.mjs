// `npm run build:sdk`: sdk/dist/index.js (one ESM file, minified, no imports) and sdk/dist/index.d.ts,
// then the size a browser downloads (gzip), which must stay under 8 KiB.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "tsdown";

const LIMIT = 8 * 1024;
const sdk = fileURLToPath(new URL("..", import.meta.url));

await build({
  cwd: sdk,
  entry: ["src/index.ts"],
  outDir: "dist",
  format: "esm",
  platform: "neutral",
  target: "es2022",
  tsconfig: "tsconfig.json",
  dts: true,
  minify: true,
  clean: true,
  fixedExtension: false,
  logLevel: "warn",
});

const js = readFileSync(`${sdk}dist/index.js`);
if (/^\s*import\b|\bimport\s*\(|\bfrom\s*["']/m.test(js.toString())) throw new Error("sdk/dist/index.js must import nothing");
const gzipped = gzipSync(js, { level: 9 }).length;
console.log(`[build:sdk] sdk/dist/index.js: ${(js.length / 1024).toFixed(2)} KiB minified, ${(gzipped / 1024).toFixed(2)} KiB gzipped (limit 8 KiB)`);
if (gzipped >= LIMIT) {
  console.error("[build:sdk] over the size budget");
  process.exit(1);
}
