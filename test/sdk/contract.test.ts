// Invariant: the SDK's types are generated from the API's own description. sdk/openapi.json (from
// which `npm run sdk:types` generates sdk/src/api-types.ts) is the Worker's GET /openapi.json: when a
// route, a field or a status changes, this test fails until the types are generated again.
import { describe, expect, it } from "vitest";
import snapshot from "../../sdk/openapi.json";
import { call } from "../helpers";

describe("SDK contract", () => {
  it("the committed OpenAPI snapshot is the Worker's GET /openapi.json (run `npm run sdk:types` if not)", async () => {
    const res = await call("/openapi.json");
    expect(res.status).toBe(200);
    const live = (await res.json()) as Record<string, unknown>;
    delete live.servers;
    expect(live).toEqual(snapshot);
  });
});
