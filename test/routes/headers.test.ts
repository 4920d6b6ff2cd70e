import { describe, expect, it } from "vitest";
import { call, signedInUser } from "../helpers";

describe("response headers", () => {
  it("marks token answers no-store and nosniff", async () => {
    const { email, password } = await signedInUser();
    const res = await call("/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email, password, device_id: "d" }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(res.headers.get("X-Request-Id")).toBeTruthy();
  });

  it("lets the JWKS be cached briefly", async () => {
    const res = await call("/.well-known/jwks.json");
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=300");
  });

  it("answers CORS preflights for configured origins only", async () => {
    const preflight = (origin: string) =>
      call("/auth/login", {
        method: "OPTIONS",
        headers: { Origin: origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" },
      });
    const allowed = await preflight("http://localhost:3000");
    expect(allowed.headers.get("Access-Control-Allow-Origin")).toBe("http://localhost:3000");
    expect(allowed.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("authorization");
    const other = await preflight("https://evil.example");
    expect(other.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("adds CORS headers to an allowed browser's requests, and Vary: Origin to every API answer", async () => {
    const fromBrowser = await call("/auth/login", {
      method: "POST",
      headers: { Origin: "http://localhost:3000", "Content-Type": "application/json" },
      body: "{}",
    });
    expect(fromBrowser.status).toBe(400);
    expect(fromBrowser.headers.get("Access-Control-Allow-Origin")).toBe("http://localhost:3000");
    expect(fromBrowser.headers.get("Access-Control-Expose-Headers")).toContain("Retry-After");
    expect(fromBrowser.headers.get("Vary")).toContain("Origin");

    const fromApp = await call("/auth/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    expect(fromApp.status).toBe(400);
    expect(fromApp.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(fromApp.headers.get("Vary")).toBe("Origin");
    expect(fromApp.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(fromApp.headers.get("Cache-Control")).toBe("no-store");
    expect(fromApp.headers.get("X-Request-Id")).toBeTruthy();
  });
});
