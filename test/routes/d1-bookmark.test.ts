// Invariant: every request reads D1 through one Sessions API session. Writes start at the primary;
// reads start at the bookmark the client sent back (so a user reads their own write from any replica)
// or anywhere when none was sent; gated and writing GET routes start at the primary. Every answer
// that touched D1 carries the session's latest bookmark in X-D1-Bookmark; a malformed bookmark is
// ignored, never a 500. Miniflare has one database, so this tests the plumbing: the constraint each
// request hands to `withSession` and the header each answer carries.
import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { adminUser, approve, authed, call, customerUser, patchMe, post, signedInUser, submitOk, type Json } from "../helpers";

const HEADER = "X-D1-Bookmark";

/** The constraints or bookmarks passed to `env.DB.withSession` while `act` runs. */
async function startsOf(act: () => Promise<Response>): Promise<{ res: Response; starts: unknown[] }> {
  const spy = vi.spyOn(env.DB, "withSession");
  try {
    const res = await act();
    return { res, starts: spy.mock.calls.map((call) => call[0]) };
  } finally {
    spy.mockRestore();
  }
}

function bookmarkOf(res: Response): string {
  const bookmark = res.headers.get(HEADER);
  expect(bookmark).toMatch(/^[0-9a-f]+(-[0-9a-f]+)+$/);
  return bookmark!;
}

describe("D1 sessions and the bookmark header", () => {
  it("a sign-in starts at the primary and answers with a bookmark", async () => {
    const { email, password } = await signedInUser();
    const { res, starts } = await startsOf(() => post("/auth/login", { email, password, device_id: "d2" }));
    expect(res.status).toBe(200);
    expect(starts).toEqual(["first-primary"]);
    bookmarkOf(res);
  });

  it("a profile change answers with a bookmark, and the next read starts at it and sees the change", async () => {
    const { tokens } = await signedInUser();
    const { res: changed, starts: writeStarts } = await startsOf(() => patchMe(tokens.access_token, { first_name: "Grace" }));
    expect(changed.status).toBe(200);
    expect(writeStarts).toEqual(["first-primary"]);
    const bookmark = bookmarkOf(changed);

    const { res: read, starts } = await startsOf(() => authed(tokens.access_token, "/users/me", { headers: { [HEADER]: bookmark } }));
    expect(read.status).toBe(200);
    expect(starts).toEqual([bookmark]);
    expect(await read.json()).toMatchObject({ first_name: "Grace" });
    // Bookmarks sort oldest to newest: the answer's is never older than the one sent.
    expect(bookmarkOf(read) >= bookmark).toBe(true);
  });

  it("a read without a bookmark may start at any replica", async () => {
    const { tokens } = await signedInUser();
    const { res, starts } = await startsOf(() => authed(tokens.access_token, "/kyc/status"));
    expect(res.status).toBe(200);
    expect(starts).toEqual(["first-unconstrained"]);
    bookmarkOf(res);
  });

  it("a refresh reads like a read: from the client's bookmark, or any replica", async () => {
    const { tokens } = await signedInUser();
    const bookmark = bookmarkOf(await patchMe(tokens.access_token, { first_name: "Ada" }));
    const { res, starts } = await startsOf(() =>
      post("/auth/refresh", { refresh_token: tokens.refresh_token, device_id: "device-1" }, { [HEADER]: bookmark }),
    );
    expect(res.status).toBe(200);
    expect(starts).toEqual([bookmark]);
  });

  it("a write starts at the primary even when the client sends a bookmark", async () => {
    const { tokens } = await signedInUser();
    const bookmark = bookmarkOf(await patchMe(tokens.access_token, { last_name: "Hopper" }));
    const { res, starts } = await startsOf(() =>
      authed(tokens.access_token, "/users/me", {
        method: "PATCH",
        headers: { "Content-Type": "application/json", [HEADER]: bookmark },
        body: JSON.stringify({ first_name: "Grace" }),
      }),
    );
    expect(res.status).toBe(200);
    expect(starts).toEqual(["first-primary"]);
  });

  it("a KYC decision answers with a bookmark; a read from it sees the decision", async () => {
    const admin = await adminUser();
    const user = await customerUser();
    const application = await submitOk(user.token);
    const { res: decided, starts } = await startsOf(() => approve(admin.token, application.id as string));
    expect(decided.status).toBe(200);
    expect(starts).toEqual(["first-primary"]);
    const bookmark = bookmarkOf(decided);
    const status = await authed(user.token, "/kyc/status", { headers: { [HEADER]: bookmark } });
    expect(status.status).toBe(200);
    expect(((await status.json()) as Json).status).toBe("APPROVED");
  });

  it("gated reads and session lists start at the primary, whatever bookmark is sent", async () => {
    const admin = await adminUser();
    const bookmark = bookmarkOf(await patchMe(admin.token, { first_name: "Ada" }));
    for (const path of ["/admin/users", "/admin/kyc", "/auth/sessions"]) {
      const { res, starts } = await startsOf(() => authed(admin.token, path, { headers: { [HEADER]: bookmark } }));
      expect(res.status, path).toBe(200);
      expect(starts, path).toEqual(["first-primary"]);
    }
  });

  it("ignores a malformed bookmark: never handed to D1, never a 500", async () => {
    const { tokens } = await signedInUser();
    const bad = ["first-primary", "not a bookmark", "'; DROP TABLE users; --", "0".repeat(300), "00-zz", "-", "a-".repeat(200) + "a"];
    for (const value of bad) {
      const { res, starts } = await startsOf(() => authed(tokens.access_token, "/users/me", { headers: { [HEADER]: value } }));
      expect(res.status, value).toBe(200);
      expect(starts, value).toEqual(["first-unconstrained"]);
      expect(res.headers.get(HEADER)).not.toBe(value);
    }
  });

  it("a bookmark on an answer that made no D1 query is the one the client sent", async () => {
    const res = await call("/health", { headers: { [HEADER]: "00000000-00000001-00000000-00000000000000000000000000000000" } });
    expect(res.headers.get(HEADER)).toBe("00000000-00000001-00000000-00000000000000000000000000000000");
  });

  it("lets browsers send the header and read it", async () => {
    const preflight = await call("/users/me", {
      method: "OPTIONS",
      headers: { Origin: "http://localhost:3000", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization,x-d1-bookmark" },
    });
    expect(preflight.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("x-d1-bookmark");
    const { tokens } = await signedInUser();
    const res = await authed(tokens.access_token, "/users/me", { headers: { Origin: "http://localhost:3000" } });
    expect(res.headers.get("Access-Control-Expose-Headers")?.toLowerCase()).toContain("x-d1-bookmark");
  });
});
