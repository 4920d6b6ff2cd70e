// Budget: the storage calls each hot route makes, counted by wrapping the Worker's bindings (D1,
// KV, the SubjectStore namespace, R2) and calling the Worker's own fetch with them. A route that
// grows a round trip fails here; the table is in docs/performance.md. Calls a Durable Object makes
// itself (the user's object writing its session row to D1) use the object's own bindings and are
// not counted: they are one hop inside the object's location, not one from the Worker.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { enrolTotp, signedInUser, uniqueEmail, uniqueIp, url, type Json } from "../helpers";

type Counts = Record<string, number>;

/** Wraps env's storage bindings; every call is counted under `<store> <operation>`. */
function countingEnv() {
  const counts: Counts = {};
  const count = (key: string) => void (counts[key] = (counts[key] ?? 0) + 1);
  const real = new WeakMap<object, D1PreparedStatement>();

  // The audit row is written through ctx.waitUntil after the answer; that work starts in the same
  // turn the answer is handed over, so it is told apart by its table rather than by time.
  const statement = (stmt: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const key = /^insert into "audit_events"/i.test(sql) ? "D1 audit" : "D1 query";
    const wrapped = new Proxy(stmt, {
      get(target, prop) {
        if (prop === "bind") return (...args: unknown[]) => statement(target.bind(...args), sql);
        if (prop === "first" || prop === "all" || prop === "run" || prop === "raw") {
          return (...args: unknown[]) => (count(key), (target[prop] as (...a: unknown[]) => unknown)(...args));
        }
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    real.set(wrapped, stmt);
    return wrapped;
  };
  const d1 = <T extends D1Database | D1DatabaseSession>(db: T): T =>
    new Proxy(db, {
      get(target, prop) {
        if (prop === "prepare") return (sql: string) => statement(target.prepare(sql), sql);
        if (prop === "batch") {
          return (stmts: D1PreparedStatement[]) => (count("D1 batch"), target.batch(stmts.map((s) => real.get(s) ?? s)));
        }
        if (prop === "exec") return (sql: string) => (count("D1 exec"), (target as D1Database).exec(sql));
        if (prop === "withSession") return (...args: unknown[]) => d1((target as D1Database).withSession(...(args as [string])));
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  const counted = <T extends object>(store: string, binding: T, ops: string[]): T =>
    new Proxy(binding, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (typeof value !== "function") return value;
        if (typeof prop === "string" && ops.includes(prop)) return (...args: unknown[]) => (count(`${store} ${prop}`), value.apply(target, args));
        return value.bind(target);
      },
    });
  // Every method called on a Durable Object stub is one round trip to the object, named by its kind.
  const names = new Map<string, string>();
  const subjects = new Proxy(env.SUBJECTS, {
    get(target, prop) {
      if (prop === "idFromName") {
        return (name: string) => {
          const id = target.idFromName(name);
          names.set(id.toString(), name.slice(0, name.indexOf(":")));
          return id;
        };
      }
      if (prop === "get") {
        return (id: DurableObjectId) => {
          const stub = target.get(id);
          const kind = names.get(id.toString()) ?? "?";
          return new Proxy(stub, {
            get(s, method) {
              if (method === "then") return undefined;
              const value = Reflect.get(s, method);
              if (typeof method !== "string" || typeof value !== "function") return value;
              return (...args: unknown[]) => (count(`DO ${kind}`), count(`DO ${kind}.${method}`), Reflect.apply(value, s, args));
            },
          });
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const wrapped: Env = {
    ...env,
    DB: d1(env.DB),
    KV: counted("KV", env.KV, ["get", "getWithMetadata", "put", "delete", "list"]),
    KYC_BUCKET: counted("R2", env.KYC_BUCKET, ["get", "head", "put", "delete", "list", "createMultipartUpload"]),
    SUBJECTS: subjects as typeof env.SUBJECTS,
  };
  return { env: wrapped, counts };
}

/**
 * One request through the Worker with counted bindings: the calls made before the answer, and
 * those deferred after it (ctx.waitUntil: audit rows, lazy writes).
 */
async function measure(path: string, init: RequestInit) {
  const { env: counting, counts } = countingEnv();
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(url(path), init), counting, ctx);
  const beforeAnswer = { ...counts };
  const body = await res.json<Json>();
  await waitOnExecutionContext(ctx);
  const afterAnswer = Object.fromEntries(
    Object.entries(counts)
      .map(([k, v]) => [k, v - (beforeAnswer[k] ?? 0)] as const)
      .filter(([, v]) => v > 0),
  );
  return { status: res.status, body, beforeAnswer, afterAnswer, all: { ...counts } };
}

const me = (token: string) => measure("/users/me", { headers: { Authorization: `Bearer ${token}` } });

const json = (body: unknown, ip = uniqueIp()): RequestInit => ({
  method: "POST",
  headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip },
  body: JSON.stringify(body),
});

describe("GET /users/me", () => {
  it("on a miss of the isolate's cache: at most one KV read and one D1 read, nothing else", async () => {
    const { tokens } = await signedInUser({}, "rt-me-miss");
    const first = await me(tokens.access_token);
    expect(first.status).toBe(200);
    expect(first.beforeAnswer).toEqual({ "KV get": 1, "D1 query": 1 });
    expect(first.afterAnswer).toEqual({});
  });

  it("on a hit of the isolate's cache: no storage call at all", async () => {
    const { tokens } = await signedInUser({}, "rt-me-hit");
    expect((await me(tokens.access_token)).status).toBe(200);
    const hit = await me(tokens.access_token);
    expect(hit.status).toBe(200);
    expect(hit.beforeAnswer).toEqual({});
    expect(hit.afterAnswer).toEqual({});
  });
});

describe("POST /auth/refresh", () => {
  it("one call to the user's Durable Object and at most the user's row from D1 (none on a cache hit)", async () => {
    const { tokens } = await signedInUser({}, "rt-refresh");
    const res = await measure("/auth/refresh", json({ refresh_token: tokens.refresh_token, device_id: "rt-refresh" }));
    expect(res.status).toBe(200);
    const { "D1 query": reads = 0, ...rest } = res.beforeAnswer;
    expect(rest).toEqual({ "DO user": 1, "DO user.rotateRefresh": 1 });
    expect(reads).toBeLessThanOrEqual(1);
    expect(res.afterAnswer).toEqual({});
  });
});

describe("POST /auth/login", () => {
  // Every call of the request, before and after its answer: two calls to Durable Objects at most.
  // The per-IP limiter (`ip:` object) is one call on every login, whatever the outcome. The
  // account's throttle is in the user's object: a right password is settled there in the call that
  // opens the session; a wrong one is one call that counts it. An address without an account has
  // its own object count the attempt instead: the same method, on an object of the same class.
  // D1: one query, the user's row with their second factors. A session's row and its sign-in's
  // audit row are one batch the user's object writes (not counted here); a refusal's audit row is
  // one insert after the answer, as is the second-step challenge's.
  const limiter = { "DO ip": 1, "DO ip.hit": 1, "D1 query": 1 };
  const refused = { ...limiter, "D1 audit": 1 };

  it("a right password: the limiter, then the user's object settles the attempt and opens the session", async () => {
    const { email, password } = await signedInUser({}, "rt-login");
    const res = await measure("/auth/login", json({ email, password, device_id: "rt-login" }));
    expect(res.status).toBe(200);
    expect(res.all).toEqual({ ...limiter, "DO user": 1, "DO user.createSession": 1 });
  });

  it("a right password with a second factor: the limiter, then the user's object settles it and opens the challenge", async () => {
    const { email, password, tokens } = await signedInUser({}, "rt-login-mfa");
    await enrolTotp(tokens.access_token as string);
    const res = await measure("/auth/login", json({ email, password, device_id: "rt-login-mfa" }));
    expect(res.status).toBe(200);
    expect(res.body.mfa_required).toBe(true);
    expect(res.all).toEqual({ ...limiter, "DO user": 1, "DO user.openMfaChallenge": 1, "D1 audit": 1 });
  });

  it("a wrong password and an unknown address: the limiter and one throttle call each", async () => {
    const { email } = await signedInUser({}, "rt-login-wrong");
    const wrong = await measure("/auth/login", json({ email, password: "not the password", device_id: "rt" }));
    const unknown = await measure("/auth/login", json({ email: uniqueEmail("rt-nobody"), password: "not the password", device_id: "rt" }));
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.all).toEqual({ ...refused, "DO user": 1, "DO user.settleLogin": 1 });
    expect(unknown.all).toEqual({ ...refused, "DO email": 1, "DO email.settleLogin": 1 });
  });
});
