import { describe, expect, it } from "vitest";
import { call } from "../helpers";

describe("service", () => {
  it("answers health", async () => {
    const res = await call("/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });
});
