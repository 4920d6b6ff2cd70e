// `npm run bench:serve`: the benchmark's server (bundle + one workerd through Miniflare) on
// 127.0.0.1:8787, left running so an outside load tool can measure it. Console delivery is on:
// codes appear in this terminal. Ctrl-C stops it.
import { join } from "node:path";
import { buildBundle, root, startServer } from "./bench-server.mjs";

const bundleDir = buildBundle(join(root, ".bench/bundle"));
const mf = await startServer({ bundleDir, persistDir: join(root, ".bench/state"), onLog: (line) => console.log(line) });
console.log("[bench:serve] ready on http://127.0.0.1:8787 (Ctrl-C to stop)");
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    await mf.dispose();
    process.exit(0);
  });
}
