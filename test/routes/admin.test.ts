import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { adminUser, authed, expectProblem, login, patchUser, pollUntil, signedInUser, uniquePhone, type Json } from "../helpers";

function revokeSessions(token: string, id: string) {
  return authed(token, `/admin/users/${id}/revoke-sessions`, { method: "POST" });
}

/** Every page of a listing, following next_cursor; asserts each page's size. */
async function allPages(token: string, path: string, key: "users" | "events", limit: number): Promise<Json[][]> {
  const pages: Json[][] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const res = await authed(token, `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const body = await res.json<Json>();
    expect(body[key].length).toBeLessThanOrEqual(limit);
    pages.push(body[key]);
    cursor = body.next_cursor;
    expect(pages.length).toBeLessThan(50);
  } while (cursor);
  return pages;
}

const ids = (rows: Json[]) => rows.map((r) => r.id as string);

/** Audit is written after the response: wait until the subject's events include `actions`. */
async function auditOf(token: string, userId: string, actions: string[]): Promise<Json[]> {
  return pollUntil(
    async () => (await allPages(token, `/admin/audit?user_id=${userId}`, "events", 100)).flat(),
    (events) => actions.every((a) => events.some((e) => e.action === a)),
  );
}

describe("GET /admin/users", () => {
  it("finds users by email, username, phone or name, case-insensitively, each exactly once across pages", async () => {
    const admin = await adminUser();
    const tag = `q${crypto.randomUUID().slice(0, 8)}`;
    const phone = uniquePhone();
    const matching = await Promise.all([
      signedInUser({ email: `${tag}-one@example.com` }),
      signedInUser({ email: `${tag}-two@example.com` }),
      signedInUser({ email: `three-${tag}@example.com` }),
      signedInUser({ username: `user_${tag}` }),
      signedInUser({ full_name: `Ada ${tag.toUpperCase()} Lovelace` }),
    ]);
    const byPhone = await signedInUser({ phone, full_name: "Phone Only" });
    const unrelated = await signedInUser({ full_name: "Someone Else" });

    const pages = await allPages(admin.token, `/admin/users?query=${tag.toUpperCase()}`, "users", 2);
    const found = ids(pages.flat());
    expect(pages.length).toBe(3);
    expect(new Set(found).size).toBe(found.length);
    expect(found.sort()).toEqual(matching.map((u) => u.tokens.user.id as string).sort());
    expect(found).not.toContain(unrelated.tokens.user.id);

    const first = pages[0]![0]!;
    expect(Object.keys(first).sort()).toEqual(
      [
        "created_at", "email", "first_name", "full_name", "id", "is_active", "is_email_verified", "is_phone_verified",
        "kyc_status", "last_name", "phone", "profile_picture", "role", "username",
      ].sort(),
    );
    expect(first.is_active).toBe(true);
    expect(first).not.toHaveProperty("password_hash");
    // newest first
    const created = pages.flat().map((u) => Date.parse(u.created_at));
    expect([...created].sort((a, b) => b - a)).toEqual(created);

    const phoneHits = (await allPages(admin.token, `/admin/users?query=${encodeURIComponent(phone.slice(4))}`, "users", 100)).flat();
    expect(ids(phoneHits)).toEqual([byPhone.tokens.user.id]);
  });

  it("lists everyone without a query, each user exactly once across pages", async () => {
    const admin = await adminUser();
    const made = await Promise.all([signedInUser(), signedInUser(), signedInUser()]);
    const everyone = (await env.DB.prepare("SELECT id FROM users").all<{ id: string }>()).results.map((r) => r.id);
    const found = ids((await allPages(admin.token, "/admin/users", "users", 3)).flat());
    expect(new Set(found).size).toBe(found.length);
    expect(found.sort()).toEqual(everyone.sort());
    for (const u of made) expect(found).toContain(u.tokens.user.id);
  });

  it("matches % and _ literally", async () => {
    const admin = await adminUser();
    const tag = `w${crypto.randomUUID().slice(0, 8)}`;
    const percent = await signedInUser({ full_name: `${tag} 50%off` });
    await signedInUser({ full_name: `${tag} 50xoff` });
    const underscore = await signedInUser({ full_name: `${tag} a_b` });
    await signedInUser({ full_name: `${tag} axb` });

    const search = async (q: string) =>
      ids((await allPages(admin.token, `/admin/users?query=${encodeURIComponent(q)}`, "users", 100)).flat());
    expect(await search("50%off")).toEqual([percent.tokens.user.id]);
    expect(await search(`${tag} a_b`)).toEqual([underscore.tokens.user.id]);
    expect(await search(`${tag}\\`)).toEqual([]);
    expect((await search(tag)).length).toBe(4);
  });

  it("refuses a bad limit or cursor", async () => {
    const admin = await adminUser();
    await expectProblem(await authed(admin.token, "/admin/users?limit=0"), 400, "validation_error");
    await expectProblem(await authed(admin.token, "/admin/users?limit=101"), 400, "validation_error");
    await expectProblem(await authed(admin.token, "/admin/users?limit=abc"), 400, "validation_error");
    await expectProblem(await authed(admin.token, "/admin/users?cursor=not%20base64"), 400, "validation_error");
    const body = await expectProblem(await authed(admin.token, "/admin/users?cursor=Zm9v"), 400, "validation_error");
    expect(body.errors).toEqual([{ path: "cursor", message: expect.any(String) }]);
    const page = await (await authed(admin.token, "/admin/users")).json<Json>();
    expect(page.users.length).toBeLessThanOrEqual(20);
  });
});

describe("PATCH /admin/users/{id}", () => {
  it("changes the role, effective at once without revoking sessions", async () => {
    const admin = await adminUser();
    const target = await signedInUser();
    const targetId = target.tokens.user.id as string;

    const res = await patchUser(admin.token, targetId, { role: "PROVIDER" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: targetId, role: "PROVIDER", is_active: true });
    const me = await authed(target.tokens.access_token, "/users/me");
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ role: "PROVIDER" });

    // A demoted admin loses the admin routes on the next request, and keeps their session.
    const other = await adminUser();
    expect((await authed(other.token, "/admin/users")).status).toBe(200);
    expect((await patchUser(admin.token, other.id, { role: "CUSTOMER" })).status).toBe(200);
    await expectProblem(await authed(other.token, "/admin/users"), 403, "forbidden");
    expect((await authed(other.token, "/users/me")).status).toBe(200);
  });

  it("deactivates and reactivates", async () => {
    const admin = await adminUser();
    const target = await signedInUser();
    const targetId = target.tokens.user.id as string;

    const off = await patchUser(admin.token, targetId, { is_active: false });
    expect(off.status).toBe(200);
    expect(await off.json()).toMatchObject({ id: targetId, is_active: false, role: "CUSTOMER" });
    await expectProblem(await authed(target.tokens.access_token, "/users/me"), 401, "invalid_access_token");

    const on = await patchUser(admin.token, targetId, { is_active: true, role: "CUSTOMER" });
    expect(on.status).toBe(200);
    expect(await on.json()).toMatchObject({ is_active: true });
    expect((await login(target.email, target.password, "back")).user.id).toBe(targetId);
  });

  it("answers 404 for an unknown user and 400 for a bad body or id", async () => {
    const admin = await adminUser();
    const target = await signedInUser();
    const targetId = target.tokens.user.id as string;
    await expectProblem(await patchUser(admin.token, crypto.randomUUID(), { role: "PROVIDER" }), 404, "user_not_found");
    await expectProblem(await patchUser(admin.token, targetId, {}), 400, "validation_error");
    await expectProblem(await patchUser(admin.token, targetId, { role: "ROOT" }), 400, "validation_error");
    await expectProblem(await patchUser(admin.token, targetId, { is_active: "no" }), 400, "validation_error");
    await expectProblem(await patchUser(admin.token, targetId, { role: "ADMIN", email: "x@example.com" }), 400, "validation_error");
    await expectProblem(await patchUser(admin.token, "not-a-uuid", { role: "ADMIN" }), 400, "validation_error");
    const row = await env.DB.prepare("SELECT role, is_active FROM users WHERE id = ?").bind(targetId).first();
    expect(row).toEqual({ role: "CUSTOMER", is_active: 1 });
  });

  it("is refused to non-admins", async () => {
    const customer = await signedInUser();
    const target = await signedInUser();
    await expectProblem(
      await patchUser(customer.tokens.access_token, target.tokens.user.id, { role: "ADMIN" }),
      403,
      "forbidden",
    );
    await expectProblem(
      await patchUser(customer.tokens.access_token, customer.tokens.user.id, { role: "ADMIN" }),
      403,
      "forbidden",
    );
    const row = await env.DB.prepare("SELECT role FROM users WHERE id = ?").bind(customer.tokens.user.id).first();
    expect(row).toEqual({ role: "CUSTOMER" });
  });
});

describe("POST /admin/users/{id}/revoke-sessions", () => {
  it("ends every session of the user and counts them", async () => {
    const admin = await adminUser();
    const target = await signedInUser({}, "rs-1");
    const second = await login(target.email, target.password, "rs-2");
    const third = await login(target.email, target.password, "rs-3");
    const targetId = target.tokens.user.id as string;

    const res = await revokeSessions(admin.token, targetId);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ revoked: 3 });
    for (const token of [target.tokens.access_token, second.access_token, third.access_token]) {
      await expectProblem(await authed(token, "/users/me"), 401, "invalid_access_token");
    }
    expect(await (await revokeSessions(admin.token, targetId)).json()).toEqual({ revoked: 0 });
    expect((await authed(admin.token, "/users/me")).status).toBe(200);
    await expectProblem(await revokeSessions(admin.token, crypto.randomUUID()), 404, "user_not_found");
    await expectProblem(await revokeSessions(target.tokens.access_token, admin.id), 401, "invalid_access_token");
  });
});

describe("GET /admin/audit", () => {
  it("lists the user's events newest first, page by page, with the admin actions recorded", async () => {
    const admin = await adminUser();
    const target = await signedInUser();
    const targetId = target.tokens.user.id as string;
    const bystander = await signedInUser();
    const headers = { "CF-Connecting-IP": "192.0.2.7", "User-Agent": "admin-console/1.0" };

    expect((await patchUser(admin.token, targetId, { role: "PROVIDER" }, headers)).status).toBe(200);
    expect((await patchUser(admin.token, targetId, { is_active: false })).status).toBe(200);
    expect((await patchUser(admin.token, targetId, { is_active: true })).status).toBe(200);
    expect((await revokeSessions(admin.token, targetId)).status).toBe(200);
    expect((await patchUser(admin.token, bystander.tokens.user.id, { role: "PROVIDER" })).status).toBe(200);

    const wanted = ["admin.role_changed", "admin.activation_changed", "admin.sessions_revoked"];
    const all = await auditOf(admin.token, targetId, wanted);
    expect(all.length).toBeGreaterThanOrEqual(5);

    const pages = await allPages(admin.token, `/admin/audit?user_id=${targetId}`, "events", 2);
    const events = pages.flat();
    expect(pages.length).toBeGreaterThan(1);
    expect(new Set(ids(events)).size).toBe(events.length);
    expect(ids(events).sort()).toEqual(ids(all).sort());
    for (const e of events) expect(e.subject_id).toBe(targetId);
    const times = events.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    const roleChange = events.find((e) => e.action === "admin.role_changed")!;
    expect(roleChange).toMatchObject({
      actor_id: admin.id,
      subject_id: targetId,
      ip: "192.0.2.7",
      user_agent: "admin-console/1.0",
      details: { from: "CUSTOMER", to: "PROVIDER" },
    });
    expect(roleChange.request_id).toEqual(expect.any(String));
    const activations = events.filter((e) => e.action === "admin.activation_changed");
    expect(activations.map((e) => e.details).sort((a, b) => Number(a.to) - Number(b.to))).toEqual([
      { from: true, to: false, sessions_revoked: 1 },
      { from: false, to: true, sessions_revoked: 0 },
    ]);
    expect(events.find((e) => e.action === "admin.sessions_revoked")).toMatchObject({ actor_id: admin.id, details: { revoked: 0 } });

    const onlyRoles = (await allPages(admin.token, `/admin/audit?user_id=${targetId}&action=admin.role_changed`, "events", 10)).flat();
    expect(ids(onlyRoles)).toEqual([roleChange.id]);
  });

  it("lists every subject's events without a filter, and is for admins only", async () => {
    const admin = await adminUser();
    const customer = await signedInUser();
    const events = (await allPages(admin.token, "/admin/audit", "events", 100)).flat();
    expect(new Set(ids(events)).size).toBe(events.length);
    await expectProblem(await authed(customer.tokens.access_token, "/admin/audit"), 403, "forbidden");
    await expectProblem(await authed(admin.token, "/admin/audit?user_id=nope"), 400, "validation_error");
    await expectProblem(await authed(admin.token, "/admin/audit?action=DROP%20TABLE"), 400, "validation_error");
  });
});
