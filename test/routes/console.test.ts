// The web console's pages are the one index.html built from console/ (npm test builds it first, in
// `pretest`), sent with the HTML security headers; the API, the service routes and unknown paths
// keep their own answers.
import { describe, expect, it } from "vitest";
import { CONSOLE_PATHS } from "../../src/routes/console";
import { BASE, call as callApi, expectProblem } from "../helpers";

// Console paths such as /admin/kyc are taken as they are (the helper would put /api/v1 before them).
const call = (path: string) => callApi(path.startsWith("/api/") ? path : `${BASE}${path}`);

const pages = CONSOLE_PATHS.map((p) => p.replace(":id", "00000000-0000-4000-8000-000000000000"));

describe("web console", () => {
  it("serves its index.html at every console path, with the CSP and the viewport meta", async () => {
    for (const path of [...pages, "/signup/", "/verify-email?token=abc", "/reset-password?token=abc"]) {
      const res = await call(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("Content-Type"), path).toMatch(/^text\/html/);
      const policy = res.headers.get("Content-Security-Policy") ?? "";
      expect(policy, path).toContain("script-src 'self'");
      expect(policy, path).toContain("connect-src 'self'");
      expect(policy, path).toContain("frame-ancestors 'none'");
      expect(res.headers.get("Referrer-Policy"), path).toBe("no-referrer");
      const html = await res.text();
      expect(html, path).toContain('<meta name="viewport" content="width=device-width, initial-scale=1"');
    }
  });

  it("loads only this origin's script files, each served as JavaScript", async () => {
    const html = await (await call("/login")).text();
    for (const [, body] of html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/gi)) expect(body!.trim()).toBe("");
    const sources = [...html.matchAll(/<script[^>]+src="([^"]+)"/g)].map((m) => m[1]!);
    expect(sources.length).toBeGreaterThan(0);
    for (const src of sources) {
      expect(src).toMatch(/^\/console\//);
      const res = await call(src);
      expect(res.status, src).toBe(200);
      expect(res.headers.get("Content-Type"), src).toMatch(/javascript/);
    }
  });

  it("leaves the API, the service routes and unknown paths as they were", async () => {
    await expectProblem(await call("/api/v1/signup"), 404, "not_found");
    await expectProblem(await call("/api/v1/admin/kyc/x/y/z"), 404, "not_found");
    await expectProblem(await call("/admin/nowhere"), 404, "not_found");
    expect((await call("/health")).status).toBe(200);
    expect((await call("/.well-known/jwks.json")).status).toBe(200);
    expect((await call("/openapi.json")).headers.get("Content-Type")).toMatch(/json/);
    expect((await call("/docs")).status).toBe(200);
  });
});
