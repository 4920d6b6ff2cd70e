// Invariant: password guessing is throttled per account and per client IP, exactly, however many
// attempts arrive at once. After 5 failures for an address each try waits 1, 2, 4 … s; after 10 the
// account is locked for 15 minutes (429 too_many_attempts + Retry-After), right password or not;
// unknown addresses are throttled the same way (no enumeration); a success clears the count. The
// count is the account's (in its user object), so it follows the account to a new address.
import { describe, expect, it } from "vitest";
import { loginWithPassword } from "../../src/domain/login";
import {
  authed,
  codeOf,
  confirmEmailChange,
  emailChangeCode,
  enrolTotp,
  expectProblem,
  lockOut,
  loginAt,
  PASSWORD,
  post,
  requestEmailChange,
  signedInUser,
  testDeps,
  uniqueEmail,
  uniqueIp,
} from "../helpers";

const WRONG = "definitely not it";
const DEVICE = { deviceId: "d", deviceName: null };

function attempt(email: string, password: string, ip?: string) {
  return post("/auth/login", { email, password, device_id: "d" }, ip ? { "CF-Connecting-IP": ip } : {});
}

describe("login throttle", () => {
  it("a burst of 50 wrong passwords gets exactly 5 checked; the rest are 429 with Retry-After", async () => {
    const { email } = await signedInUser();
    const start = Date.now();
    const answers = await Promise.all(Array.from({ length: 50 }, () => attempt(email, WRONG)));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(45);
    const limited = answers.find((r) => r.status === 429)!;
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    await expectProblem(limited, 429, "too_many_attempts");
    // Even the right password waits out the delay (asked at the burst's start, which the delay set
    // by its 5th failure outlasts, so a slow machine cannot let the 1 s run out first).
    expect(await loginAt(email, PASSWORD, start)).toMatchObject({ code: "too_many_attempts" });
  });

  it("the delay grows after 5 failures and 10 failures lock the account for 15 minutes", async () => {
    const { email } = await signedInUser();
    let now = Date.now();
    for (let i = 0; i < 5; i++) expect(await loginAt(email, WRONG, now)).toMatchObject({ code: "invalid_credentials" });
    const waits: number[] = [];
    for (let failures = 5; failures < 10; failures++) {
      const refused = (await loginAt(email, WRONG, now)) as { code: string; retryAfter: number };
      expect(refused.code).toBe("too_many_attempts");
      waits.push(refused.retryAfter);
      now += refused.retryAfter * 1000;
      expect(await loginAt(email, WRONG, now)).toMatchObject({ code: "invalid_credentials" });
    }
    expect(waits).toEqual([1, 2, 4, 8, 16]);
    const locked = (await loginAt(email, PASSWORD, now + 60_000)) as { code: string; retryAfter: number };
    expect(locked.code).toBe("too_many_attempts");
    expect(locked.retryAfter).toBeGreaterThan(13 * 60);
    expect(codeOf(await loginAt(email, PASSWORD, now + 15 * 60_000 + 1000))).toBe("ok");
  });

  it("a success clears the failure count", async () => {
    const { email } = await signedInUser();
    const now = Date.now();
    for (let i = 0; i < 4; i++) await loginAt(email, WRONG, now);
    expect(codeOf(await loginAt(email, PASSWORD, now))).toBe("ok");
    for (let i = 0; i < 4; i++) expect(await loginAt(email, WRONG, now)).toMatchObject({ code: "invalid_credentials" });
  });

  it("a burst of right and wrong passwords on a locked account opens no session and no challenge", async () => {
    const { email, tokens } = await signedInUser();
    const withTotp = await signedInUser();
    await enrolTotp(withTotp.tokens.access_token as string);
    for (const account of [email, withTotp.email]) {
      const lockedAt = await lockOut(account, Date.now());
      const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => loginAt(account, i % 2 ? PASSWORD : WRONG, lockedAt + 1000)));
      expect(burst.map(codeOf)).toEqual(Array(20).fill("too_many_attempts"));
    }
    // The sign-up's session is still the only one.
    const listed = (await (await authed(tokens.access_token as string, "/auth/sessions")).json()) as { sessions: unknown[] };
    expect(listed.sessions).toHaveLength(1);
  });

  it("a burst of right passwords on a clean budget each opens a session, and leaves the budget clean", async () => {
    const { email, tokens } = await signedInUser();
    const now = Date.now();
    const burst = await Promise.all(Array.from({ length: 10 }, () => loginAt(email, PASSWORD, now)));
    expect(burst.map(codeOf)).toEqual(Array(10).fill("ok"));
    const listed = (await (await authed(tokens.access_token as string, "/auth/sessions")).json()) as { sessions: unknown[] };
    expect(listed.sessions).toHaveLength(11);
    // Nothing was counted: the full budget of wrong passwords is still there before the delay.
    for (let i = 0; i < 5; i++) expect(await loginAt(email, WRONG, now)).toMatchObject({ code: "invalid_credentials" });
    expect(await loginAt(email, WRONG, now)).toMatchObject({ code: "too_many_attempts" });
  });

  it("the lock follows the account to its new address; the old address is counted apart, from zero", async () => {
    const { email, tokens } = await signedInUser();
    const lockedAt = await lockOut(email, Date.now());
    const newEmail = uniqueEmail("moved");
    expect((await requestEmailChange(tokens.access_token as string, newEmail)).status).toBe(202);
    expect((await confirmEmailChange(tokens.access_token as string, emailChangeCode(newEmail))).status).toBe(200);
    expect(await loginAt(newEmail, PASSWORD, lockedAt + 1000)).toMatchObject({ code: "too_many_attempts" });
    // The old address no longer names an account: its attempts are counted apart, from zero.
    expect(await loginAt(email, PASSWORD, lockedAt + 1000)).toMatchObject({ code: "invalid_credentials" });
  });

  it("throttles unknown addresses exactly like known ones", async () => {
    const unknown = uniqueEmail("nobody");
    const answers = await Promise.all(Array.from({ length: 20 }, () => attempt(unknown, WRONG)));
    expect(answers.filter((r) => r.status === 401)).toHaveLength(5);
    expect(answers.filter((r) => r.status === 429)).toHaveLength(15);
  });

  it("limits attempts per client IP across accounts", async () => {
    const { deps } = testDeps();
    const config = { ...deps.config, login: { ...deps.config.login, ipLimit: { count: 3, windowSeconds: 900 } } };
    const meta = { ip: uniqueIp(), userAgent: null };
    const results = [];
    for (let i = 0; i < 5; i++) {
      results.push(
        await loginWithPassword({ ...deps, config }, { email: uniqueEmail("spray"), password: WRONG, device: DEVICE }, meta, Date.now()).catch(
          (err: { code: string }) => err.code,
        ),
      );
    }
    expect(results).toEqual(["invalid_credentials", "invalid_credentials", "invalid_credentials", "rate_limited", "rate_limited"]);
  });
});
