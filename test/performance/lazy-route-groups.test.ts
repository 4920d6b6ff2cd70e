/// <reference types="vite/client" />
// Invariant (issue 15, startup CPU): an isolate builds an API route group (its modules' zod schemas
// and sub-apps) on the first request under its prefix, not at startup and not for a request under
// another prefix; GET /openapi.json builds them all. The requests here are this file's isolate's
// first, so each test reads on from the one before it.
import { describe, expect, it } from "vitest";
import { API_GROUPS, loadedApiGroups } from "../../src/api";
import { call, expectProblem, post, type Json } from "../helpers";

describe("API route groups, built on first use", () => {
  it("/health answers with no group built", async () => {
    expect(loadedApiGroups()).toEqual([]);
    const res = await call("/health");
    expect(res.status).toBe(200);
    expect(loadedApiGroups()).toEqual([]);
  });

  it("a request under /api/v1/admin builds that group alone, and answers as the group does", async () => {
    await expectProblem(await call("/admin/users"), 401, "invalid_access_token");
    expect(loadedApiGroups()).toEqual(["admin"]);
  });

  it("an unknown path under a prefix not built yet builds it and is not_found, through the same middleware", async () => {
    const res = await call("/kyc/no-such-route/", { headers: { "cf-ray": "lazy-ray-1" } });
    await expectProblem(res, 404, "not_found");
    expect(res.headers.get("X-Request-Id")).toBe("lazy-ray-1");
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(res.headers.get("Vary")).toBe("Origin");
    expect(loadedApiGroups()).toEqual(["kyc", "admin"]);
  });

  it("concurrent first requests under one prefix are each answered once, with their own body", async () => {
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => post("/auth/login/", { email: `nobody-${i}@lazy.test`, password: 1 })),
    );
    for (const res of answers) {
      const body = await expectProblem(res, 400, "validation_error");
      expect(body.errors).toContainEqual(expect.objectContaining({ path: "password" }));
    }
    expect(loadedApiGroups()).toEqual(["auth", "kyc", "admin"]);
  });

  it("GET /openapi.json builds every group and describes every one of them", async () => {
    const res = await call("/openapi.json");
    expect(res.status).toBe(200);
    expect(loadedApiGroups()).toEqual([...API_GROUPS]);
    const paths = Object.keys(((await res.json()) as Json).paths);
    for (const group of API_GROUPS) expect(paths.some((p) => p.startsWith(`/api/v1/${group}/`))).toBe(true);
  });
});

// The bundler keeps a module out of startup only if nothing that runs at startup imports it
// statically: follow src/index.ts's static imports through the sources and find no route group.
const SOURCES = new Map(
  Object.entries(
    import.meta.glob("../../src/**/*.ts", { query: "?raw", import: "default", eager: true }) as Record<string, string>,
  ).map(([file, source]) => [file.replace("../../", ""), source]),
);

/** The files `file` (like `src/app.ts`) imports statically. */
function staticImports(file: string): string[] {
  const found: string[] = [];
  // `import type` is erased; `import("...")` is the lazy edge, and has no space before its quote.
  for (const m of (SOURCES.get(file) ?? "").matchAll(/(?:^|\n)\s*(?:import|export)\s+(?!type\s)[^;]*?\sfrom\s+"(\.[^"]+)"/g)) {
    const base = new URL(m[1]!, `file:///${file}`).pathname.slice(1);
    found.push(SOURCES.has(`${base}.ts`) ? `${base}.ts` : `${base}/index.ts`);
  }
  return found;
}

describe("what startup imports", () => {
  it("no route group's module, schemas or the OpenAPI generator is reachable from src/index.ts without import()", () => {
    expect(SOURCES.has("src/routes/admin.ts")).toBe(true);
    const reached = new Set<string>();
    const queue = ["src/index.ts"];
    for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
      if (reached.has(file)) continue;
      reached.add(file);
      queue.push(...staticImports(file));
    }
    expect(reached.has("src/api.ts")).toBe(true);
    const routes = [...reached].filter((f) => f.startsWith("src/routes/")).sort();
    expect(routes).toEqual(["src/routes/console.ts", "src/routes/service.ts"]);
    for (const lazy of ["schemas", "validate", "openapi", "kyc-schemas", "export-schemas", "webauthn-schemas"]) {
      expect(reached.has(`src/http/${lazy}.ts`)).toBe(false);
    }
  });
});
