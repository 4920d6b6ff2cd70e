// Invariant: every HTML page of this origin (where the console will keep users' tokens) is sent
// with a CSP that allows only this origin's own script files (no inline or foreign script), forbids
// framing, plugins and <base>, and with X-Frame-Options DENY, Referrer-Policy no-referrer and
// nosniff. /docs runs no third-party script: each script and stylesheet it references is served
// by this Worker.
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { renderReferencePage } from "../../src/http/reference-page";
import { htmlSecurityHeaders } from "../../src/middleware/html-security-headers";
import { call, type Json } from "../helpers";

const REQUIRED_CSP: Record<string, string> = {
  "default-src": "'self'",
  "script-src": "'self'",
  "connect-src": "'self'",
  "frame-ancestors": "'none'",
  "base-uri": "'none'",
  "object-src": "'none'",
};

function csp(header: string | null): Map<string, string> {
  const directives = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) directives.set(name.toLowerCase(), values.join(" "));
  }
  return directives;
}

function expectHtmlHeaders(res: Response, label: string): void {
  const policy = res.headers.get("Content-Security-Policy");
  const directives = csp(policy);
  for (const [name, value] of Object.entries(REQUIRED_CSP)) expect(directives.get(name), `${label}: ${name}`).toBe(value);
  expect(policy, label).not.toMatch(/unsafe-inline|unsafe-eval|unsafe-hashes|\*/);
  expect(res.headers.get("X-Frame-Options"), label).toBe("DENY");
  expect(res.headers.get("Referrer-Policy"), label).toBe("no-referrer");
  expect(res.headers.get("X-Content-Type-Options"), label).toBe("nosniff");
}

const tags = (html: string, name: string) => html.match(new RegExp(`<${name}\\b[^>]*>`, "gi")) ?? [];
const attr = (tag: string, name: string) => new RegExp(`\\s${name}\\s*=\\s*["']?([^"'\\s>]+)`, "i").exec(tag)?.[1];

describe("HTML pages", () => {
  it("/docs is HTML sent with the CSP, anti-framing, referrer and nosniff headers", async () => {
    for (const path of ["/docs", "/docs/"]) {
      const res = await call(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("Content-Type"), path).toMatch(/^text\/html/);
      expectHtmlHeaders(res, path);
    }
  });

  it("/docs references no off-origin or inline script, and the Worker serves each file it references", async () => {
    const html = await (await call("/docs")).text();
    expect(html).not.toMatch(/<script[^>]+src\s*=\s*["']?(https?:)?\/\//i);
    // Nor through an inline module's import (`import … from "https://cdn…"`): script elements are empty.
    for (const [, body] of html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/gi)) expect(body!.trim()).toBe("");
    expect(html).not.toMatch(/<link[^>]+href\s*=\s*["']?(https?:)?\/\//i);
    // Inline script and handlers would be refused by the CSP anyway; the page must not need them.
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/\sstyle\s*=/i);

    const scripts = tags(html, "script");
    expect(scripts.length).toBeGreaterThan(0);
    const files = scripts.map((tag) => {
      const src = attr(tag, "src");
      expect(src, `inline script: ${tag}`).toBeDefined();
      return { path: src!, type: /javascript/ };
    });
    for (const tag of tags(html, "link").filter((t) => /rel\s*=\s*["']?stylesheet/i.test(t))) {
      files.push({ path: attr(tag, "href")!, type: /text\/css/ });
    }
    for (const { path, type } of files) {
      expect(path, "a same-origin path").toMatch(/^\/[^/]/);
      const res = await call(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("Content-Type"), path).toMatch(type);
      expect(res.headers.get("X-Content-Type-Options"), path).toBe("nosniff");
      expect((await res.text()).length, path).toBeGreaterThan(0);
    }
  });

  it("/docs documents every operation of /openapi.json", async () => {
    const doc = await (await call("/openapi.json")).json<Json>();
    const html = await (await call("/docs")).text();
    const paths = Object.keys(doc.paths);
    expect(paths.length).toBeGreaterThan(20);
    for (const path of paths) expect(html, path).toContain(`<code class="path">${path}</code>`);
  });

  it("the reference escapes whatever the document says", () => {
    const evil = '<img src=x onerror="alert(1)"><script>alert(2)</script>';
    const html = renderReferencePage({
      openapi: "3.1.0",
      info: { title: evil, version: evil },
      paths: { [`/x/${evil}`]: { get: { summary: evil, description: `\`${evil}\``, tags: [evil], responses: { 200: { description: evil } } } } },
      components: { schemas: { [evil]: { type: "object", properties: { [evil]: { type: "string", description: evil, default: evil } } } } },
    });
    expect(html).not.toContain("<img");
    expect(html).not.toContain("<script>alert");
    // Quotes are escaped too, so nothing breaks out of an attribute (data-search, id, href).
    expect(html).not.toContain('"alert(1)"');
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
  });

  it("every HTML answer of a public GET route carries the headers", async () => {
    const doc = await (await call("/openapi.json")).json<Json>();
    const gets = Object.entries(doc.paths as Record<string, Json>)
      .filter(([path, ops]) => ops.get && !path.includes("{"))
      .map(([path]) => path);
    let html = 0;
    for (const path of [...gets, "/docs", "/docs/reference.js", "/docs/reference.css", "/nowhere"]) {
      const res = await call(path, { redirect: "manual" });
      if (!/^text\/html/.test(res.headers.get("Content-Type") ?? "")) continue;
      html++;
      expectHtmlHeaders(res, path);
    }
    expect(html).toBeGreaterThan(0);
  });

  it("a page added later inherits the headers from the one middleware, and JSON answers do not get them", async () => {
    const app = new Hono()
      .use(htmlSecurityHeaders)
      .get("/page", (c) => c.html("<!doctype html><title>later</title>"))
      .get("/json", (c) => c.json({ ok: true }));
    expectHtmlHeaders(await app.request("/page"), "/page");
    expect((await app.request("/json")).headers.get("Content-Security-Policy")).toBeNull();
  });

  it("unknown paths outside the API stay problem+json 404s, and API paths never reach static files", async () => {
    for (const path of ["/nowhere", "/docs/nothing.js", "/api/v1/docs/reference.js"]) {
      const res = await call(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get("Content-Type"), path).toContain("application/problem+json");
    }
  });
});
