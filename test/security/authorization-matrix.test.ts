// Invariant: no route lets the wrong caller through. Every (method, path) of the generated
// /openapi.json has an entry in ONE table below saying what each caller gets: anonymous callers get
// 401 on every protected route, non-admins 403 on every admin route, a PROVIDER without approved KYC
// 403 kyc_required on the KYC-gated route, a user acting on another user's resource is refused, and
// public routes are reachable without a token. A route added later without an entry fails this test.
// The admin caller has an authenticator app (MFA_REQUIRED_ROLES holds ADMIN) and gets it back after a
// route removed it. Routes that need a recent sign-in (`recent`) refuse a token whose auth_time is
// older than 10 minutes with 403 reauthentication_required, and exactly those say so in the document.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { authed, call, enrolTotp, makeAdmin, moveClock, post, registerPasskey, restoreClock, signedInUser, type Json } from "../helpers";

/**
 * pass: the caller reaches the handler (any answer but 401/403, and no server error);
 * unauthenticated: 401 invalid_access_token with a bare Bearer challenge (no token sent); forbidden / kyc_required: 403 with that code;
 * session_not_found / passkey_not_found: 404, another user's session or passkey is not even admitted to exist;
 * signed: public but signed, never asks for a bearer token, a missing signature is 401 invalid_signature;
 * signed_link: a link whose query carries its signature: never asks for a bearer token (a token is no
 * substitute); asked with a well-formed wrong signature, it is 403 invalid_download_link for everyone.
 */
type Outcome = "pass" | "unauthenticated" | "forbidden" | "kyc_required" | "session_not_found" | "passkey_not_found" | "signed" | "signed_link";

type Entry = {
  anonymous: Outcome;
  customer: Outcome;
  /** role PROVIDER, KYC not approved */
  provider: Outcome;
  admin: Outcome;
  /** A CUSTOMER naming another user's resource in the path (only for paths with ids). */
  other?: Outcome;
  /**
   * What the path's ids are: the caller's session, the caller's user id, the owner's passkey (only the
   * owner has one; anyone else's path gets a random UUID), or (default) a random UUID.
   */
  ids?: "session" | "user" | "passkey";
  /** Needs a recent sign-in (requireRecentAuth): a stale token gets 403 reauthentication_required. */
  recent?: true;
  /** Ends the caller's account (DELETE /users/me): tried by callers made for it, not the shared ones. */
  ends?: true;
};

const PUBLIC: Entry = { anonymous: "pass", customer: "pass", provider: "pass", admin: "pass" };
const SIGNED_IN: Entry = { anonymous: "unauthenticated", customer: "pass", provider: "pass", admin: "pass" };
const ADMIN_ONLY: Entry = { anonymous: "unauthenticated", customer: "forbidden", provider: "forbidden", admin: "pass" };
const ADMIN_ONLY_BY_ID: Entry = { ...ADMIN_ONLY, other: "forbidden" };
const RECENT: Entry = { ...SIGNED_IN, recent: true };
const SIGNED_WEBHOOK: Entry = { anonymous: "signed", customer: "signed", provider: "signed", admin: "signed" };
const SIGNED_LINK: Entry = { anonymous: "signed_link", customer: "signed_link", provider: "signed_link", admin: "signed_link", other: "signed_link" };

const MATRIX: Record<string, Entry> = {
  // Service (the root, outside /api/v1)
  "GET /health": PUBLIC,
  "GET /.well-known/jwks.json": PUBLIC,
  "GET /openapi.json": PUBLIC,
  "GET /docs": PUBLIC,
  // Email and password
  "POST /api/v1/auth/register": PUBLIC,
  "POST /api/v1/auth/verify-email": PUBLIC,
  "GET /api/v1/auth/verify": PUBLIC,
  "POST /api/v1/auth/verify": PUBLIC,
  "POST /api/v1/auth/resend-verification": PUBLIC,
  "POST /api/v1/auth/login": PUBLIC,
  "POST /api/v1/auth/refresh": PUBLIC,
  "POST /api/v1/auth/logout": PUBLIC,
  "POST /api/v1/auth/logout-all": SIGNED_IN,
  "POST /api/v1/auth/password-reset/request": PUBLIC,
  "POST /api/v1/auth/password-reset/confirm": PUBLIC,
  "POST /api/v1/auth/password/change": RECENT,
  "POST /api/v1/auth/reauthenticate": SIGNED_IN,
  // Sessions
  "GET /api/v1/auth/sessions": SIGNED_IN,
  "DELETE /api/v1/auth/sessions/{id}": { ...SIGNED_IN, other: "session_not_found", ids: "session" },
  // Phone and Google
  "POST /api/v1/auth/phone/send-otp": PUBLIC,
  "POST /api/v1/auth/phone/verify-otp": PUBLIC,
  "POST /api/v1/auth/google": PUBLIC,
  "GET /api/v1/auth/google/start": PUBLIC,
  "GET /api/v1/auth/google/callback": PUBLIC,
  "POST /api/v1/auth/google/exchange": PUBLIC,
  // Email sign-in code
  "POST /api/v1/auth/email/send-code": PUBLIC,
  "POST /api/v1/auth/email/verify-code": PUBLIC,
  // Profile
  "GET /api/v1/users/me": SIGNED_IN,
  "PATCH /api/v1/users/me": SIGNED_IN,
  "DELETE /api/v1/users/me": { ...RECENT, ends: true },
  // Second factors
  "GET /api/v1/users/me/mfa": SIGNED_IN,
  "POST /api/v1/users/me/mfa/totp": RECENT,
  "POST /api/v1/users/me/mfa/totp/confirm": SIGNED_IN,
  "DELETE /api/v1/users/me/mfa/totp": RECENT,
  "POST /api/v1/users/me/mfa/recovery-codes": RECENT,
  // Account
  "GET /api/v1/users/me/export": SIGNED_IN,
  "GET /api/v1/users/me/export/kyc-documents/{doc_id}": SIGNED_LINK,
  "POST /api/v1/auth/mfa/verify": PUBLIC,
  "POST /api/v1/auth/mfa/passkey/options": PUBLIC,
  // Passkeys
  "POST /api/v1/users/me/passkeys/options": RECENT,
  "POST /api/v1/users/me/passkeys": RECENT,
  "GET /api/v1/users/me/passkeys": SIGNED_IN,
  // The matrix's body ({}) lacks `name`: refused before the passkey is looked up, and never 401/403.
  "PATCH /api/v1/users/me/passkeys/{id}": { ...SIGNED_IN, other: "pass", ids: "passkey" },
  "DELETE /api/v1/users/me/passkeys/{id}": { ...RECENT, other: "passkey_not_found", ids: "passkey" },
  "POST /api/v1/users/me/email": RECENT,
  "POST /api/v1/users/me/email/confirm": SIGNED_IN,
  "POST /api/v1/users/me/phone": SIGNED_IN,
  "POST /api/v1/users/me/phone/confirm": SIGNED_IN,
  "POST /api/v1/users/me/password": RECENT,
  "POST /api/v1/auth/passkey/options": PUBLIC,
  "POST /api/v1/auth/passkey/verify": PUBLIC,
  "POST /api/v1/auth/reauthenticate/options": SIGNED_IN,
  // Identities: the path's {type} gets a random UUID, refused as a type (400), never 401/403.
  "GET /api/v1/users/me/identities": SIGNED_IN,
  "POST /api/v1/users/me/identities/google": RECENT,
  "DELETE /api/v1/users/me/identities/{type}": { ...RECENT, other: "pass" },
  // KYC
  "POST /api/v1/kyc/submit": SIGNED_IN,
  "GET /api/v1/kyc/status": SIGNED_IN,
  "POST /api/v1/kyc/webhook": SIGNED_WEBHOOK,
  "GET /api/v1/provider/dashboard": {
    anonymous: "unauthenticated",
    customer: "forbidden",
    provider: "kyc_required",
    admin: "forbidden",
  },
  "GET /api/v1/admin/kyc": ADMIN_ONLY,
  "GET /api/v1/admin/kyc/{id}": ADMIN_ONLY_BY_ID,
  "GET /api/v1/admin/kyc/{id}/documents/{doc_id}": ADMIN_ONLY_BY_ID,
  "POST /api/v1/admin/kyc/{id}/approve": ADMIN_ONLY_BY_ID,
  "POST /api/v1/admin/kyc/{id}/reject": ADMIN_ONLY_BY_ID,
  // Administration
  "GET /api/v1/admin/users": ADMIN_ONLY,
  "PATCH /api/v1/admin/users/{id}": { ...ADMIN_ONLY_BY_ID, ids: "user" },
  "POST /api/v1/admin/users/{id}/revoke-sessions": { ...ADMIN_ONLY_BY_ID, ids: "user" },
  "POST /api/v1/admin/users/{id}/mfa/reset": { ...ADMIN_ONLY_BY_ID, ids: "user" },
  // A random id: the admin reaches the handler (404) and no shared caller is deleted.
  "DELETE /api/v1/admin/users/{id}": ADMIN_ONLY_BY_ID,
  "GET /api/v1/admin/audit": ADMIN_ONLY,
};

/** Served but not described in the document (they are the document and its viewer). */
const UNDOCUMENTED = ["GET /openapi.json", "GET /docs"];

/** Parameter names and trailing slashes do not make a route different. */
const shape = (key: string) => key.replace(/\{[^}]+\}/g, "{}").replace(/(.)\/$/, "$1");

// The document is read before the tests are collected, so each route gets a test of its own.
const doc = await (await call("/openapi.json")).json<{ paths: Record<string, Record<string, unknown>> }>();
const METHODS = ["get", "post", "put", "patch", "delete"];
const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
  Object.keys(ops)
    .filter((m) => METHODS.includes(m))
    .map((m) => `${m.toUpperCase()} ${path}`),
);
const byShape = new Map(Object.entries(MATRIX).map(([key, entry]) => [shape(key), { key, entry }]));
const served = new Set([...documented, ...UNDOCUMENTED].map(shape));

type Caller = {
  email: string; password: string; userId: string; token: string; sessionId: string; device: string;
  /** The admin's: spent one by one to finish a sign-in that asks for the second factor. */
  recoveryCodes: string[];
  mfa: boolean;
  /** The owner's passkey, which other callers try to reach. */
  passkeyId?: string;
};
type CallerName = "anonymous" | "customer" | "provider" | "admin" | "other";

const callers = {} as Record<"customer" | "provider" | "admin" | "owner", Caller>;

async function makeCaller(overrides: Json, device: string): Promise<Caller> {
  const { email, password, tokens } = await signedInUser(overrides, device);
  return {
    email,
    password,
    device,
    userId: tokens.user.id,
    token: tokens.access_token,
    sessionId: (tokens.refresh_token as string).split(".")[1]!,
    recoveryCodes: [],
    mfa: false,
  };
}

async function enrol(caller: Caller): Promise<void> {
  caller.recoveryCodes = (await enrolTotp(caller.token)).recoveryCodes;
  caller.mfa = true;
}

/** Some routes end the caller's own session (logout-all, revoke-sessions): sign in again when so. */
async function keepSignedIn(caller: Caller): Promise<void> {
  const res = await call("/api/v1/users/me", { headers: { Authorization: `Bearer ${caller.token}` } });
  if (res.status !== 200) {
    let tokens = await (await post("/auth/login", { email: caller.email, password: caller.password, device_id: caller.device })).json<Json>();
    if (tokens.mfa_required) {
      const verified = await post("/auth/mfa/verify", { mfa_token: tokens.mfa_token, method: "recovery_code", code: caller.recoveryCodes.pop() });
      tokens = await verified.json<Json>();
    }
    caller.token = tokens.access_token;
    caller.sessionId = (tokens.refresh_token as string).split(".")[1]!;
  }
  if (caller.mfa && !(await (await authed(caller.token, "/users/me/mfa")).json<Json>()).totp) await enrol(caller);
}

function fillPath(path: string, entry: Entry, owner: Caller): string {
  const filled = path.replace(/\{[^}]+\}/g, () =>
    entry.ids === "session"
      ? owner.sessionId
      : entry.ids === "user"
        ? owner.userId
        : entry.ids === "passkey" && owner.passkeyId
          ? owner.passkeyId
          : crypto.randomUUID(),
  );
  // A signed link is asked with a signature of the right form that the service never made.
  return entry.anonymous === "signed_link" ? `${filled}?expires=${Math.floor(Date.now() / 1000) + 300}&sig=${"A".repeat(43)}` : filled;
}

async function request(method: string, path: string, token: string | null): Promise<Response> {
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  const init: RequestInit = { method, headers, redirect: "manual" };
  if (method === "POST" || method === "PATCH" || method === "PUT") {
    headers["Content-Type"] = "application/json";
    init.body = "{}";
  }
  return call(path, init);
}

async function expectOutcome(res: Response, outcome: Outcome, label: string): Promise<void> {
  const isProblem = (res.headers.get("Content-Type") ?? "").includes("application/problem+json");
  const code = isProblem ? ((await res.json<Json>()).code as string) : null;
  const seen = { status: res.status, code };
  switch (outcome) {
    case "pass":
      expect(res.status, `${label}: ${JSON.stringify(seen)}`).not.toBe(401);
      expect(res.status, `${label}: ${JSON.stringify(seen)}`).not.toBe(403);
      expect(res.status, `${label}: ${JSON.stringify(seen)}`).toBeLessThan(500);
      return;
    case "unauthenticated":
      expect(seen, label).toEqual({ status: 401, code: "invalid_access_token" });
      expect(res.headers.get("WWW-Authenticate"), label).toBe('Bearer realm="edge-auth"');
      return;
    case "forbidden":
    case "kyc_required":
      expect(seen, label).toEqual({ status: 403, code: outcome });
      return;
    case "session_not_found":
    case "passkey_not_found":
      expect(seen, label).toEqual({ status: 404, code: outcome });
      return;
    case "signed":
      expect(res.status, `${label}: ${JSON.stringify(seen)}`).not.toBe(403);
      expect(code, label).not.toBe("invalid_access_token");
      if (res.status === 401) expect(code, label).toBe("invalid_signature");
      else expect([400, 415, 503], `${label}: ${JSON.stringify(seen)}`).toContain(res.status);
      return;
    case "signed_link":
      expect(seen, label).toEqual({ status: 403, code: "invalid_download_link" });
      return;
  }
}

/** Callers of a route that ends their account: a customer, a provider and a second admin of their own. */
async function callersToEnd(): Promise<Record<"customer" | "provider" | "admin", Caller>> {
  const [customer, provider, admin] = await Promise.all([
    makeCaller({}, "matrix-end-customer"),
    makeCaller({ role: "PROVIDER" }, "matrix-end-provider"),
    makeCaller({}, "matrix-end-admin"),
  ]);
  await enrol(admin!);
  await makeAdmin(admin!.userId);
  return { customer: customer!, provider: provider!, admin: admin! };
}

beforeAll(async () => {
  const [customer, provider, admin, owner] = await Promise.all([
    makeCaller({}, "matrix-customer"),
    makeCaller({ role: "PROVIDER" }, "matrix-provider"),
    makeCaller({}, "matrix-admin"),
    makeCaller({}, "matrix-owner"),
  ]);
  await enrol(admin!);
  await makeAdmin(admin!.userId);
  // The owner's passkey, which another user's DELETE must not reach (the owner never signs in again).
  owner!.passkeyId = (await registerPasskey(owner!.token)).passkey.id;
  Object.assign(callers, { customer, provider, admin, owner });
});

describe("authorization matrix", () => {
  it("has exactly one entry for every route in /openapi.json", () => {
    expect(documented.length).toBeGreaterThan(20);
    const missing = documented.filter((key) => !byShape.has(shape(key)));
    expect(missing, "routes without an entry in MATRIX").toEqual([]);
    expect(byShape.size, "two MATRIX keys name the same route").toBe(Object.keys(MATRIX).length);
    for (const [key, entry] of Object.entries(MATRIX)) {
      expect(entry.other !== undefined, `${key}: an entry for a path with ids says what another user gets`).toBe(key.includes("{"));
    }
  });

  for (const route of [...documented, ...UNDOCUMENTED]) {
    const found = byShape.get(shape(route));
    if (!found) continue; // reported by the test above
    it(route, async () => {
      const { entry } = found;
      const [method, path] = route.split(" ") as [string, string];
      const { customer, provider, admin } = entry.ends ? await callersToEnd() : callers;
      const plan: [CallerName, Caller | null, Caller][] = [
        ["anonymous", null, callers.owner],
        ["customer", customer, customer],
        ["provider", provider, provider],
        ["admin", admin, admin],
      ];
      if (entry.other) plan.push(["other", callers.customer, callers.owner]);
      for (const [name, caller, owner] of plan) {
        if (caller) await keepSignedIn(caller);
        if (owner !== caller) await keepSignedIn(owner);
        const target = fillPath(path, entry, owner);
        const res = await request(method, target, caller?.token ?? null);
        // A route that gave the caller a new set of recovery codes: the old set no longer signs in.
        if (caller && res.status === 200 && path.endsWith("/recovery-codes")) caller.recoveryCodes = (await res.clone().json<Json>()).recovery_codes;
        await expectOutcome(res, entry[name]!, `${name} ${method} ${target}`);
      }
    });
  }

  it("has no entry for a route the service does not serve", () => {
    expect(Object.keys(MATRIX).filter((k) => !served.has(shape(k)))).toEqual([]);
  });
});

describe("routes that need a recent sign-in", () => {
  afterEach(restoreClock);

  const recent = Object.entries(MATRIX)
    .filter(([, entry]) => entry.recent)
    .map(([key]) => key);

  it("are exactly those the document says answer 403 reauthentication_required", () => {
    const ops = doc.paths as Record<string, Record<string, { responses?: Record<string, { description?: string }> }>>;
    const saysSo = documented.filter((key) => {
      const [method, path] = key.split(" ") as [string, string];
      return /reauthentication_required/.test(ops[path]?.[method.toLowerCase()]?.responses?.["403"]?.description ?? "");
    });
    expect(saysSo.map(shape).sort()).toEqual(recent.map(shape).sort());
  });

  for (const route of recent) {
    it(`${route} refuses a token signed in 11 minutes ago`, async () => {
      const [method, path] = route.split(" ") as [string, string];
      const { tokens } = await signedInUser({}, "matrix-stale");
      moveClock(11 * 60_000);
      const res = await request(method, fillPath(path, MATRIX[route]!, callers.customer), tokens.access_token);
      expect({ status: res.status, code: (await res.json<Json>()).code }).toEqual({ status: 403, code: "reauthentication_required" });
    });
  }
});
