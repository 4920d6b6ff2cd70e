// The sign-in pipeline (src/domain/sign-in.ts): every way in ends in completeSignIn, which refuses a
// disabled account (audited, no session), asks for a second factor when the account has one (no
// session either), and only then opens a session whose tokens work.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { refresh } from "../../src/domain/session-tokens";
import { completeSignIn, type SecondFactorMethod, type SignInMethod } from "../../src/domain/sign-in";
import { verifyAccessToken } from "../../src/domain/tokens";
import { database } from "../../src/storage/db";
import { presentUser } from "../../src/presenters";
import { insertUser, type User } from "../../src/storage/users";
import { testDeps, uniqueEmail } from "../helpers";

const DEVICE = { deviceId: "pipeline-device", deviceName: "Pipeline" };
const META = { ip: "192.0.2.7", userAgent: "sign-in-test/1.0" };

function newUser(fields: { isActive?: boolean } = {}): Promise<User> {
  const user = {
    id: crypto.randomUUID(),
    email: uniqueEmail("pipeline"),
    fullName: "Pipeline User",
    role: "CUSTOMER" as const,
    passwordHash: null,
    isEmailVerified: true,
    ...fields,
  };
  return insertUser(database(env.DB), user, new Date());
}

/** The domain's deps with an account that has enrolled `methods` as second factors. */
function depsWithFactors(methods: SecondFactorMethod[]) {
  const { deps, settle } = testDeps();
  const methodsFor = vi.fn(async (_user: User) => methods);
  return { deps: { ...deps, secondFactors: { methodsFor } }, settle, methodsFor };
}

function attempt(method: SignInMethod = "password", extra: { userVerified?: boolean } = {}) {
  return { method, device: DEVICE, meta: META, now: Date.now(), ...extra };
}

async function d1Sessions(userId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?").bind(userId).first<{ n: number }>();
  return row!.n;
}

/** Sessions the user's Durable Object holds (an object never written has no tables at all). */
function objectSessions(userId: string): Promise<number> {
  const stub = env.SUBJECTS.get(env.SUBJECTS.idFromName(`user:${userId}`));
  return runInDurableObject(stub, (_instance, state) => {
    const sql = state.storage.sql;
    if (sql.exec(`SELECT 1 FROM sqlite_master WHERE name = 'sessions'`).toArray().length === 0) return 0;
    return sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM sessions`).one().n;
  });
}

async function auditOf(userId: string, action: string) {
  const { results } = await env.DB.prepare("SELECT details FROM audit_events WHERE subject_id = ? AND action = ?")
    .bind(userId, action)
    .all<{ details: string }>();
  return results.map((r) => JSON.parse(r.details) as Record<string, unknown>);
}

describe("completeSignIn", () => {
  it("refuses a disabled account before anything else: audited, no factor asked, no session", async () => {
    const user = await newUser({ isActive: false });
    const { deps, settle, methodsFor } = depsWithFactors(["totp"]);
    await expect(completeSignIn(deps, user, attempt("phone"))).rejects.toMatchObject({ code: "account_disabled", status: 403 });
    await settle();
    expect(methodsFor).not.toHaveBeenCalled();
    expect(await auditOf(user.id, "login.failed")).toEqual([{ method: "phone", reason: "account_disabled" }]);
    expect(await auditOf(user.id, "login.succeeded")).toEqual([]);
    expect(await d1Sessions(user.id)).toBe(0);
    expect(await objectSessions(user.id)).toBe(0);
  });

  it("asks for the second factor and opens no session when the account has one", async () => {
    const user = await newUser();
    const { deps, settle, methodsFor } = depsWithFactors(["totp"]);
    const result = await completeSignIn(deps, user, attempt("password"));
    expect(result).toEqual({
      kind: "second_factor", user, methods: ["totp"], method: "password", device: DEVICE,
      challenge: { mfaToken: expect.stringMatching(new RegExp(`^${user.id}\\.[A-Za-z0-9_-]{43}$`)), expiresIn: 300 },
    });
    expect(methodsFor).toHaveBeenCalledWith(user);
    await settle();
    expect(await auditOf(user.id, "login.succeeded")).toEqual([]);
    expect(await d1Sessions(user.id)).toBe(0);
    expect(await objectSessions(user.id)).toBe(0);
  });

  it("takes a passkey with user verification as both factors, and one without as the first only", async () => {
    const user = await newUser();
    const { deps } = depsWithFactors(["totp"]);
    expect(await completeSignIn(deps, user, attempt("passkey", { userVerified: false }))).toMatchObject({ kind: "second_factor" });
    expect(await completeSignIn(deps, user, attempt("passkey", { userVerified: true }))).toMatchObject({ kind: "session" });
  });

  it("opens a session when no second factor is needed: the tokens verify and refresh", async () => {
    const user = await newUser();
    const { deps, settle } = depsWithFactors([]);
    const result = await completeSignIn(deps, user, attempt("google"));
    if (result.kind !== "session") throw new Error(`expected a session, got ${result.kind}`);
    expect(result.user).toEqual(presentUser(user));

    const claims = await verifyAccessToken(deps.config, result.tokens.access_token);
    expect(claims).toMatchObject({ sub: user.id, role: "CUSTOMER" });
    const row = await env.DB.prepare("SELECT * FROM sessions WHERE id = ?").bind(claims!.sid).first<Record<string, unknown>>();
    expect(row).toMatchObject({ user_id: user.id, device_id: DEVICE.deviceId, device_name: "Pipeline", ip: META.ip, revoked_at: null });
    expect(await objectSessions(user.id)).toBe(1);

    const next = await refresh(deps, { refreshToken: result.tokens.refresh_token, deviceId: DEVICE.deviceId }, Date.now());
    expect((await verifyAccessToken(deps.config, next.access_token))?.sid).toBe(claims!.sid);
    await settle();
    expect(await auditOf(user.id, "login.succeeded")).toEqual([
      { method: "google", session_id: claims!.sid, device_id: DEVICE.deviceId },
    ]);
  });
});
