// Page cursors (src/domain/pagination.ts) called directly: what a list hands out decodes to the same
// position, and a cursor the service did not make is a validation_error naming `cursor`. The routes'
// side is test/routes/page-cursors.test.ts.
import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "../../src/domain/pagination";
import { base64urlJson } from "../helpers";

const ID = "6f1c1f0e-8a4b-4c53-9d0e-2b7f3c9a1d42";
const MAX_DATE_MS = 8.64e15;

describe("page cursors", () => {
  it("decode to the position they were made from, at either end of the range of a Date", () => {
    for (const at of [0, 1, Date.now(), MAX_DATE_MS]) {
      const position = { at: new Date(at), id: crypto.randomUUID() };
      const cursor = encodeCursor(position);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeCursor(cursor)).toEqual(position);
    }
  });

  it("are opaque base64url of [time in ms, id]", () => {
    const cursor = encodeCursor({ at: new Date(1_700_000_000_000), id: ID });
    expect(cursor).toBe(base64urlJson([1_700_000_000_000, ID]));
  });

  it.each<[string, string]>([
    ["empty", ""],
    ["not base64url", "not a cursor!"],
    ["base64url of no JSON", base64urlJson("x").slice(1)],
    ["an object", base64urlJson({ at: 0, id: ID })],
    ["one element", base64urlJson([0])],
    ["three elements", base64urlJson([0, ID, "x"])],
    ["a negative time", base64urlJson([-1, ID])],
    ["a time past a Date's range", base64urlJson([MAX_DATE_MS + 1, ID])],
    ["a fractional time", base64urlJson([1.5, ID])],
    ["a time as a string", base64urlJson([String(Date.now()), ID])],
    ["an id that is no UUID", base64urlJson([0, "not-a-uuid"])],
  ])("refuses %s with validation_error on `cursor`", (_label, cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(
      expect.objectContaining({ code: "validation_error", status: 400, errors: [{ path: "cursor", message: expect.any(String) }] }),
    );
  });
});
