// A Worker built from `source` with the argon2id library of src/domain/passwords.ts beside it
// (`./argon2.js`, `./argon2.wasm`), as Miniflare worker options: what the hash measurements run.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const lib = fileURLToPath(new URL("../node_modules/@phi-ag/argon2/dist/", import.meta.url));

export function argon2Worker(source) {
  return {
    config: {
      name: "hash",
      compatibilityDate: "2026-10-20",
      manifest: {
        mainModule: "worker.js",
        modules: {
          "worker.js": { type: "esm", contents: source },
          "argon2.js": { type: "esm", contents: readFileSync(`${lib}index.js`, "utf8") },
          "argon2.wasm": { type: "wasm", contents: new Uint8Array(readFileSync(`${lib}argon2.wasm`)) },
        },
      },
    },
  };
}
