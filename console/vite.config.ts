import { defineConfig } from "vite";

// The console builds into the Worker's static assets (wrangler.toml [assets] "public"): its
// index.html at /console/, which the Worker also serves for each console route (src/routes/console.ts).
export default defineConfig({
  root: import.meta.dirname,
  base: "/console/",
  logLevel: "warn",
  build: {
    outDir: "../public/console",
    emptyOutDir: true,
    target: "es2022",
    // No inline script or module preload polyfill: the CSP allows only this origin's script files.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
});
