// Invariant: login does not reveal whether an email is registered. An unknown email and a wrong
// password get the same 401 invalid_credentials answer for comparable (argon2id) work, and answers
// that name the account's state (email_not_verified, account_disabled) come only after a correct password.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { hashPassword } from "../../src/domain/passwords";
import { answerOf, expectProblem, median, PASSWORD, post, signedInUser, uniqueEmail } from "../helpers";

const WRONG = "not the right password";
const COMPARED_HEADERS = ["Content-Type", "Cache-Control", "WWW-Authenticate", "Retry-After"];

function login(email: string, password: string): Promise<Response> {
  return post("/auth/login", { email, password, device_id: "d-1" });
}

async function timed(email: string, password: string): Promise<number> {
  const start = performance.now();
  const res = await login(email, password);
  await res.arrayBuffer();
  expect(res.status).toBe(401);
  return performance.now() - start;
}

/** A user row written straight into D1, for states the API cannot produce on its own. */
async function insertUser(email: string, opts: { verified: boolean; active: boolean }): Promise<void> {
  const now = Date.now();
  await env.DB.prepare(
    `INSERT INTO users (id, email, full_name, role, password_hash, is_email_verified, is_active, created_at, updated_at)
     VALUES (?, ?, 'Test User', 'CUSTOMER', ?, ?, ?, ?, ?)`,
  )
    .bind(crypto.randomUUID(), email, await hashPassword(PASSWORD), opts.verified ? 1 : 0, opts.active ? 1 : 0, now, now)
    .run();
}

describe("login does not enumerate accounts", () => {
  it("an unknown email and a wrong password get the identical answer", async () => {
    const { email } = await signedInUser();
    const unknown = await answerOf(await login(uniqueEmail("nobody"), WRONG), COMPARED_HEADERS);
    const wrong = await answerOf(await login(email, WRONG), COMPARED_HEADERS);

    expect(unknown.status).toBe(401);
    expect(unknown.body.code).toBe("invalid_credentials");
    expect(wrong).toEqual(unknown);
  });

  it("an unknown email costs comparable hashing work to a wrong password", async () => {
    // A fresh account and address per try: the per-account login throttle would otherwise answer
    // 429 after five misses, with no hashing at all.
    const accounts = await Promise.all(Array.from({ length: 6 }, () => signedInUser()));
    // Warm up both paths (WASM instantiation, D1 statement preparation).
    await timed(accounts[0]!.email, WRONG);
    await timed(uniqueEmail("nobody"), WRONG);

    const known: number[] = [];
    const unknown: number[] = [];
    for (const account of accounts.slice(1)) {
      known.push(await timed(account.email, WRONG));
      unknown.push(await timed(uniqueEmail("nobody"), WRONG));
    }
    const ratio = median(unknown) / median(known);
    expect(ratio).toBeGreaterThan(0.33);
    expect(ratio).toBeLessThan(3);
  });

  it("account_disabled only after a correct password", async () => {
    const { email } = await signedInUser();
    await env.DB.prepare("UPDATE users SET is_active = 0 WHERE email = ?").bind(email).run();

    const unknown = await answerOf(await login(uniqueEmail("nobody"), WRONG), COMPARED_HEADERS);
    const wrong = await answerOf(await login(email, WRONG), COMPARED_HEADERS);
    expect(wrong).toEqual(unknown);
    expect(wrong.body.code).toBe("invalid_credentials");

    await expectProblem(await login(email, PASSWORD), 403, "account_disabled");
  });

  it("email_not_verified only after a correct password", async () => {
    const email = uniqueEmail();
    await insertUser(email, { verified: false, active: true });

    const unknown = await answerOf(await login(uniqueEmail("nobody"), WRONG), COMPARED_HEADERS);
    const wrong = await answerOf(await login(email, WRONG), COMPARED_HEADERS);
    expect(wrong).toEqual(unknown);
    expect(wrong.body.code).toBe("invalid_credentials");

    await expectProblem(await login(email, PASSWORD), 403, "email_not_verified");
  });

  it("a correct password for an active, verified account signs in (the control)", async () => {
    const email = uniqueEmail();
    await insertUser(email, { verified: true, active: true });
    expect((await login(email, PASSWORD)).status).toBe(200);
  });
});
