// Invariant: answers that must not reveal whether an account exists (password-reset request, login
// with a wrong password, resend-verification, email sign-in code request and check) do the same
// storage work, in kind and number, for an unknown address and an existing one before they answer;
// whatever only a real account needs (its code stored, its email sent) starts after the response.
// Checked structurally: the D1, KV and Durable Object calls made before the answer are recorded and
// compared, not timed. A login's throttle call goes to the account's user object, or to the
// address's own object when no account has it: the same method on an object of the same class,
// left in the same state by a wrong password.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { auditRecord } from "../../src/domain/audit";
import { storesOf } from "../../src/deps";
import { mailerFor } from "../../src/delivery/mailer";
import { smsSenderFor } from "../../src/delivery/sms";
import type { Deps } from "../../src/domain/deps";
import { sendEmailSignInCode, verifyEmailSignInCode } from "../../src/domain/email-code";
import { loginWithPassword } from "../../src/domain/login";
import { requestPasswordReset } from "../../src/domain/password-reset";
import { resendVerification, verifyEmailCode } from "../../src/domain/registration";
import { NO_SECOND_FACTORS } from "../../src/domain/sign-in";
import { database } from "../../src/storage/db";
import {
  codeOf,
  emailSubject,
  lastCode,
  loginAt,
  NO_META,
  registerAt,
  registerUser,
  signedInUser,
  testDeps,
  uniqueEmail,
  userSubject,
  wrongCode,
} from "../helpers";

const originals = new WeakMap<object, object>();
const unwrap = (value: unknown): unknown =>
  Array.isArray(value) ? value.map(unwrap) : (value !== null && typeof value === "object" && originals.get(value)) || value;

/**
 * Deps over the test's real bindings, wrapped in proxies that log every method called on D1 (with
 * its SQL), its statements, KV, the Durable Object namespace (with the kind of name) and the
 * objects' stubs. Deferred work is held until `afterResponse`.
 */
function recordingDeps() {
  const calls: string[] = [];
  const wrap = <T extends object>(target: T, label: string, onResult: (method: string, result: unknown) => unknown): T => {
    const proxy = new Proxy(target, {
      get(t, prop) {
        const value = Reflect.get(t, prop, t) as unknown;
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          const arg = args[0];
          const detail =
            label === "DB" && prop === "prepare" ? `(${String(arg)})` : prop === "idFromName" ? `(${String(arg).split(":")[0]}:…)` : "";
          calls.push(`${label}.${String(prop)}${detail}`);
          return onResult(String(prop), Reflect.apply(value, t, args.map(unwrap)));
        };
      },
    });
    originals.set(proxy, target);
    return proxy;
  };
  const statement = (s: object): object => wrap(s, "stmt", (m, r) => (m === "bind" ? statement(r as object) : r));
  const db = wrap(env.DB, "DB", (m, r) => (m === "prepare" ? statement(r as object) : r));
  const kv = wrap(env.KV, "KV", (_m, r) => r);
  const subjects = wrap(env.SUBJECTS, "SUBJECTS", (m, r) => (m === "get" ? wrap(r as object, "subject", (_m2, r2) => r2) : r));
  const config = loadConfig(env);
  const deferred: Array<() => Promise<unknown>> = [];
  const deps: Deps = {
    config,
    ...storesOf(config, { DB: db, KV: kv, SUBJECTS: subjects, ASSETS: env.ASSETS }),
    mailer: mailerFor(config),
    sms: smsSenderFor(config),
    secondFactors: NO_SECOND_FACTORS,
    defer: (work) => void deferred.push(work),
    audit: () => undefined,
    auditRecord: (event) => auditRecord(event, { ip: null, userAgent: null, requestId: null }, Date.now()),
  };
  return {
    deps,
    calls,
    /** Runs what was deferred, and returns the calls it made. */
    afterResponse: async () => {
      const before = calls.length;
      await Promise.all(deferred.map((work) => work()));
      return calls.slice(before);
    },
  };
}

/** Calls with the account's object named alike, whether it is a user's or an address's. */
const asAccountObject = (calls: string[]) => calls.map((c) => c.replace(/^SUBJECTS\.idFromName\((user|email):…\)$/, "SUBJECTS.idFromName(account:…)"));

/** The calls one domain call makes before it answers (returns or throws); then its deferred work. */
async function record(run: (deps: Deps) => Promise<unknown>) {
  const { deps, calls, afterResponse } = recordingDeps();
  const outcome = await run(deps).then(
    () => "ok",
    (err: { code?: string }) => err.code ?? String(err),
  );
  return { outcome, beforeAnswer: [...calls], afterAnswer: afterResponse };
}

describe("no timing oracle on accounts", () => {
  it("a password-reset request stores a code only after answering, so both kinds of address do the same work", async () => {
    const { email } = await signedInUser();
    const now = Date.now();
    const known = await record((deps) => requestPasswordReset(deps, email, NO_META, now));
    const unknown = await record((deps) => requestPasswordReset(deps, uniqueEmail("nobody"), NO_META, now));
    expect(known.outcome).toBe("ok");
    expect(unknown.outcome).toBe("ok");
    expect(unknown.beforeAnswer.length).toBeGreaterThan(0);
    expect(unknown.beforeAnswer).toEqual(known.beforeAnswer);
    expect(await known.afterAnswer()).toContain("subject.putCode");
    expect(await unknown.afterAnswer()).not.toContain("subject.putCode");
  });

  it("a login with a wrong password does the same work for an unknown address and an existing one", async () => {
    const { email } = await signedInUser();
    const now = Date.now();
    const device = { deviceId: "d", deviceName: null };
    const known = await record((deps) => loginWithPassword(deps, { email, password: "not the password", device }, NO_META, now));
    const unknown = await record((deps) =>
      loginWithPassword(deps, { email: uniqueEmail("nobody"), password: "not the password", device }, NO_META, now),
    );
    expect(known.outcome).toBe("invalid_credentials");
    expect(unknown.outcome).toBe("invalid_credentials");
    // The account's throttle is in the user's object; an address without an account has its own
    // object answer instead: the same method on an object of the same class. Which one is named is
    // decided inside the Worker and is not part of the answer.
    expect(known.beforeAnswer).toContain("SUBJECTS.idFromName(user:…)");
    expect(unknown.beforeAnswer).toContain("SUBJECTS.idFromName(email:…)");
    expect(unknown.beforeAnswer).toContain("subject.settleLogin");
    expect(asAccountObject(unknown.beforeAnswer)).toEqual(asAccountObject(known.beforeAnswer));
    await Promise.all([known.afterAnswer(), unknown.afterAnswer()]);
  });

  it("resend-verification does the same work whether or not a registration is pending", async () => {
    const { email } = await registerUser();
    const now = Date.now() + 61_000;
    const pending = await record((deps) => resendVerification(deps, email, NO_META, now));
    const none = await record((deps) => resendVerification(deps, uniqueEmail("nobody"), NO_META, now));
    expect(pending.outcome).toBe("ok");
    expect(none.outcome).toBe("ok");
    expect(none.beforeAnswer).toEqual(pending.beforeAnswer);
    expect(await pending.afterAnswer()).toContain("KV.put");
    expect(await none.afterAnswer()).not.toContain("KV.put");
  });

  it("an email sign-in code request stores and sends a code only after answering, for a verified active account only", async () => {
    const { email } = await signedInUser();
    const unverified = (await signedInUser()).email;
    await env.DB.prepare("UPDATE users SET is_email_verified = 0 WHERE email = ?").bind(unverified).run();
    const deactivated = (await signedInUser()).email;
    await env.DB.prepare("UPDATE users SET is_active = 0 WHERE email = ?").bind(deactivated).run();
    const now = Date.now();
    const known = await record((deps) => sendEmailSignInCode(deps, email, NO_META, now));
    expect(known.outcome).toBe("ok");
    expect(known.beforeAnswer).toContain("subject.claimCooldown");
    expect(known.beforeAnswer).not.toContain("subject.putCode");
    for (const other of [uniqueEmail("nobody"), unverified, deactivated]) {
      const answer = await record((deps) => sendEmailSignInCode(deps, other, NO_META, now));
      expect(answer.outcome).toBe("ok");
      expect(answer.beforeAnswer).toEqual(known.beforeAnswer);
      expect(await answer.afterAnswer()).toEqual([]);
    }
    expect(await known.afterAnswer()).toContain("subject.putCode");
  });

  it("an email sign-in code check does the same work for an unknown address, one with no code and a wrong code", async () => {
    const withCode = (await signedInUser()).email;
    const noCode = (await signedInUser()).email;
    const now = Date.now();
    const sent = recordingDeps();
    await sendEmailSignInCode(sent.deps, withCode, NO_META, now);
    await sent.afterResponse();
    const device = { deviceId: "d", deviceName: null };
    const wrong = wrongCode(lastCode(withCode), 0);
    const answers = [];
    for (const email of [withCode, noCode, uniqueEmail("nobody")]) {
      answers.push(await record((deps) => verifyEmailSignInCode(deps, { email, code: wrong, device }, NO_META, now)));
    }
    for (const answer of answers) {
      expect(answer.outcome).toBe("invalid_code");
      expect(answer.beforeAnswer).toEqual(answers[0]!.beforeAnswer);
    }
    expect(answers[0]!.beforeAnswer).toContain("subject.verifyCode");
  });

  it("a wrong password leaves the same throttle state in the account's object as in a never-seen address's", async () => {
    const email = uniqueEmail("account");
    const twoHoursAgo = Date.now() - 2 * 3600_000;
    await registerAt(twoHoursAgo, { email });
    const { deps } = testDeps();
    const device = { deviceId: "d", deviceName: null };
    const { user } = (await verifyEmailCode(deps, { email, code: lastCode(email), device }, NO_META, twoHoursAgo)) as { user: { id: string } };
    const unknown = uniqueEmail("nobody");
    const throttleOf = (subject: DurableObjectStub) =>
      runInDurableObject(subject, (_instance, state) => {
        const sql = state.storage.sql;
        const tables = sql.exec<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).toArray().map((t) => t.name);
        if (!tables.includes("login_failures")) return { tables, failures: [], locks: [] };
        return {
          tables,
          failures: sql.exec(`SELECT budget, expires_at - at AS window FROM login_failures`).toArray(),
          locks: sql.exec(`SELECT budget FROM login_locks`).toArray(),
        };
      });
    // The sign-up state in the account's address object has lapsed; the never-seen address has none.
    await runDurableObjectAlarm(emailSubject(email));
    expect((await throttleOf(emailSubject(email))).tables).toEqual([]);
    expect((await throttleOf(emailSubject(unknown))).tables).toEqual([]);
    const now = Date.now();
    for (const address of [email, unknown]) {
      expect(codeOf(await loginAt(address, "not the password", now))).toBe("invalid_credentials");
    }
    const account = await throttleOf(userSubject(user.id));
    const never = await throttleOf(emailSubject(unknown));
    expect(account.failures).toHaveLength(1);
    expect(never).toEqual(account);
    // The account's address object is not where its attempts go.
    expect((await throttleOf(emailSubject(email))).tables).toEqual([]);
  });
});
