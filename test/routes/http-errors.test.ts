// Rule: bad input never gets a 500. Bodies over 1 MiB answer 413; unknown routes, malformed JSON,
// wrong types and wrong content types answer 4xx problem+json with a stable code; a trailing slash
// reaches the same route.
import { describe, expect, it } from "vitest";
import { call, expectProblem, post, uniqueEmail } from "../helpers";

describe("HTTP edge rules", () => {
  it("answers an unknown route with a problem+json 404", async () => {
    const res = await call("/api/v1/nope");
    await expectProblem(res, 404, "not_found");
    expect(res.headers.get("Cache-Control")).toBe("no-store");
  });

  it("reaches the same route with a trailing slash", async () => {
    const email = uniqueEmail();
    const res = await call("/api/v1/auth/register/", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email, password: "long enough password", full_name: "Slash" }),
    });
    expect(res.status).toBe(202);
    expect((await call("/health/")).status).toBe(200);
  });

  it("refuses a JSON body over 1 MiB with 413 before parsing it", async () => {
    const big = JSON.stringify({ email: "a@b.co", password: "x".repeat(1024 * 1024), full_name: "Big" });
    await expectProblem(await call("/auth/register", { method: "POST", headers: { "Content-Type": "application/json" }, body: big }), 413, "payload_too_large");
  });

  it("refuses a large body sent without a length (chunked) with 413", async () => {
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 20) return controller.close();
        sent++;
        controller.enqueue(chunk);
      },
    });
    const res = await call("/auth/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: stream });
    await expectProblem(res, 413, "payload_too_large");
  });

  it("answers malformed JSON with 400 invalid_json", async () => {
    const res = await call("/auth/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"email": ' });
    await expectProblem(res, 400, "invalid_json");
  });

  it("answers a wrong content type with 400 unsupported_content_type", async () => {
    for (const [type, body] of [
      ["text/plain", '{"email":"a@b.co"}'],
      ["application/x-www-form-urlencoded", "email=a%40b.co"],
    ] as const) {
      const res = await call("/auth/login", { method: "POST", headers: { "Content-Type": type }, body });
      await expectProblem(res, 400, "unsupported_content_type");
    }
    const none = await call("/auth/login", { method: "POST", body: "{}" });
    expect(none.status).toBe(400);
  });

  it("answers wrong types with 400 validation_error naming the fields", async () => {
    const res = await post("/auth/login", { email: 42, password: ["x"], device_id: null });
    const body = await expectProblem(res, 400, "validation_error");
    expect(body.errors.map((e: { path: string }) => e.path).sort()).toEqual(["device_id", "email", "password"]);
  });

  it("never answers 500 to JSON values of the wrong shape", async () => {
    const bodies = ["null", "[]", "42", '"text"', "true", "{}", '{"__proto__":{"x":1}}'];
    for (const path of ["/auth/register", "/auth/login", "/auth/refresh", "/auth/verify-email", "/auth/logout", "/auth/resend-verification"]) {
      for (const body of bodies) {
        const res = await call(path, { method: "POST", headers: { "Content-Type": "application/json" }, body });
        expect(res.status, `${path} ${body}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${path} ${body}`).toBeLessThan(500);
        expect(res.headers.get("Content-Type")).toContain("application/problem+json");
      }
    }
  });

  it("sends no stack traces or internals in problems", async () => {
    const res = await post("/auth/refresh", { refresh_token: "a.b.c", device_id: "d" });
    const body = await expectProblem(res, 401, "invalid_refresh_token");
    expect(Object.keys(body).sort()).toEqual(["code", "detail", "status", "title", "type"]);
  });
});
