// Invariant: there is always at least one active ADMIN. No PATCH /admin/users/{id} demotes or
// deactivates the last active admin, whether an admin aims at themselves or several admins demote
// each other at the same moment: the refused change answers 409 `last_admin` and changes nothing.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { adminUser, authed, expectProblem, patchUser, type Json } from "../helpers";

async function activeAdmins(): Promise<string[]> {
  const rows = await env.DB.prepare("SELECT id FROM users WHERE role = 'ADMIN' AND is_active = 1").all<{ id: string }>();
  return rows.results.map((r) => r.id);
}

/** A refused or overtaken attempt: the caller was already demoted (403) or deactivated (401), or was last (409). */
async function expectAllowedOutcome(res: Response): Promise<number> {
  if (res.status === 200) return 200;
  const body = await res.json<Json>();
  expect(res.headers.get("Content-Type")).toContain("application/problem+json");
  expect([
    { status: 409, code: "last_admin" },
    { status: 403, code: "forbidden" },
    { status: 401, code: "invalid_access_token" },
  ]).toContainEqual({ status: res.status, code: body.code });
  return res.status;
}

// Storage is shared by the tests of a file: each test starts with no admin but its own.
beforeEach(async () => {
  await env.DB.prepare("UPDATE users SET role = 'CUSTOMER' WHERE role = 'ADMIN'").run();
});

describe("the last active admin", () => {
  it("cannot demote or deactivate themselves", async () => {
    const admin = await adminUser();
    for (const body of [{ role: "CUSTOMER" }, { role: "PROVIDER" }, { is_active: false }, { role: "CUSTOMER", is_active: true }]) {
      const res = await patchUser(admin.token, admin.id, body);
      await expectProblem(res, 409, "last_admin");
      expect(res.headers.get("Cache-Control")).toBe("no-store");
    }
    expect(await activeAdmins()).toEqual([admin.id]);
    expect((await authed(admin.token, "/admin/users")).status).toBe(200);
    // A change that keeps them an active admin is no demotion.
    const same = await patchUser(admin.token, admin.id, { role: "ADMIN", is_active: true });
    expect(same.status).toBe(200);
    expect(await same.json()).toMatchObject({ role: "ADMIN", is_active: true });
  });

  it("counts only active admins", async () => {
    const admin = await adminUser();
    const dormant = await adminUser();
    expect((await patchUser(admin.token, dormant.id, { is_active: false })).status).toBe(200);
    await expectProblem(await patchUser(admin.token, admin.id, { role: "CUSTOMER" }), 409, "last_admin");
    // The deactivated admin is not an active one: demoting them takes nothing away.
    expect((await patchUser(admin.token, dormant.id, { role: "CUSTOMER" })).status).toBe(200);
    expect(await activeAdmins()).toEqual([admin.id]);
  });

  it("with two admins, one may step down, and then the other is the last", async () => {
    const a = await adminUser();
    const b = await adminUser();
    expect((await patchUser(a.token, a.id, { role: "CUSTOMER" })).status).toBe(200);
    await expectProblem(await patchUser(a.token, b.id, { role: "CUSTOMER" }), 403, "forbidden");
    await expectProblem(await patchUser(b.token, b.id, { is_active: false }), 409, "last_admin");
    expect(await activeAdmins()).toEqual([b.id]);
  });
});

describe("admins demoting each other at the same time", () => {
  for (const body of [{ role: "CUSTOMER" }, { is_active: false }]) {
    it(`two admins sending ${JSON.stringify(body)} for each other leave exactly one active admin`, async () => {
      for (let round = 0; round < 5; round++) {
        await env.DB.prepare("UPDATE users SET role = 'CUSTOMER' WHERE role = 'ADMIN'").run();
        const a = await adminUser();
        const b = await adminUser();
        const [ab, ba] = await Promise.all([patchUser(a.token, b.id, body), patchUser(b.token, a.id, body)]);
        const statuses = [await expectAllowedOutcome(ab!), await expectAllowedOutcome(ba!)];
        expect(statuses.filter((s) => s === 200)).toHaveLength(1);
        const left = await activeAdmins();
        expect(left).toHaveLength(1);
        expect([a.id, b.id]).toContain(left[0]);
      }
    });
  }

  it("10 concurrent demotions and deactivations between two admins leave exactly one", async () => {
    const a = await adminUser();
    const b = await adminUser();
    const bodies = [{ role: "CUSTOMER" }, { is_active: false }, { role: "PROVIDER" }, { role: "CUSTOMER", is_active: false }, { role: "CUSTOMER" }];
    const attempts = Array.from({ length: 10 }, (_, i) =>
      i % 2 === 0 ? patchUser(a.token, b.id, bodies[(i / 2) % 5]) : patchUser(b.token, a.id, bodies[((i - 1) / 2) % 5]),
    );
    const statuses = await Promise.all((await Promise.all(attempts)).map(expectAllowedOutcome));
    expect(statuses).toContain(200);
    const left = await activeAdmins();
    expect(left).toHaveLength(1);
    expect([a.id, b.id]).toContain(left[0]);
  });

  it("five admins each demoting all the others at once leave exactly one", async () => {
    const admins = await Promise.all(Array.from({ length: 5 }, () => adminUser()));
    const attempts = admins.flatMap((caller) =>
      admins.filter((t) => t.id !== caller.id).map((target) => patchUser(caller.token, target.id, { role: "CUSTOMER" })),
    );
    await Promise.all((await Promise.all(attempts)).map(expectAllowedOutcome));
    const left = await activeAdmins();
    expect(left).toHaveLength(1);
    expect(admins.map((x) => x.id)).toContain(left[0]);
  });
});
