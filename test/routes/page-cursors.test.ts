// Rule: a page cursor must decode to a real position in the listing (a time within the range of a
// Date, an id that is a UUID); anything else is 400 validation_error naming `cursor`, never a 200
// with an empty or misplaced page. Covers the admin users, audit and KYC lists.
import { describe, expect, it } from "vitest";
import { adminUser, authed, base64urlJson, expectProblem, type Json } from "../helpers";

const LISTS = ["/admin/users?limit=1", "/admin/audit?limit=1", "/admin/kyc?status=PENDING&limit=1"];

const UUID = "6f1c1f0e-8a4b-4c53-9d0e-2b7f3c9a1d42";
const MAX_DATE_MS = 8.64e15;

const BAD_POSITIONS: [string, unknown][] = [
  ["negative time", [-1, UUID]],
  ["time past the range of Date", [MAX_DATE_MS + 1, UUID]],
  ["time beyond safe integers", [2 ** 60, UUID]],
  ["fractional time", [1.5, UUID]],
  ["time as a string", [String(Date.now()), UUID]],
  ["id not a UUID", [Date.now(), "not-a-uuid"]],
  ["empty id", [Date.now(), ""]],
  ["id with SQL", [Date.now(), `${UUID}' OR 1=1 --`]],
  ["id a number", [Date.now(), 42]],
  ["three elements", [Date.now(), UUID, "x"]],
  ["an object", { at: Date.now(), id: UUID }],
  ["null", null],
];

describe("page cursors", () => {
  it("refuses a cursor that decodes to no valid position, on every list", async () => {
    const admin = await adminUser();
    for (const list of LISTS) {
      for (const [label, value] of BAD_POSITIONS) {
        const res = await authed(admin.token, `${list}&cursor=${base64urlJson(value)}`);
        const body = await expectProblem(res, 400, "validation_error").catch((err: Error) => {
          throw new Error(`${list} ${label}: ${err.message}`);
        });
        expect(body.errors.map((e: Json) => e.path), `${list} ${label}`).toEqual(["cursor"]);
      }
    }
  });

  it("accepts the cursors the lists hand out, and a valid position at either end of the range", async () => {
    const admin = await adminUser();
    for (const list of LISTS) {
      for (const value of [[0, UUID], [MAX_DATE_MS, UUID], [Date.now(), UUID]]) {
        const res = await authed(admin.token, `${list}&cursor=${base64urlJson(value)}`);
        expect(res.status, `${list} ${JSON.stringify(value)}`).toBe(200);
      }
      const first = await (await authed(admin.token, list)).json<Json>();
      if (first.next_cursor) expect((await authed(admin.token, `${list}&cursor=${first.next_cursor}`)).status).toBe(200);
    }
  });
});
