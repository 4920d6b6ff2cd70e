// Invariant: a login lock ends. Failed passwords are counted in a sliding window of
// LOGIN_LOCK_SECONDS and the count starts afresh when a lock expires, so one wrong guess every 15
// minutes cannot keep an account locked; the budget still holds after the lock, under a burst too;
// and lapsed failures are pruned by the object's alarm, not kept forever.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loginWithPassword } from "../../src/domain/login";
import { signedInUser, testDeps, NO_META, PASSWORD } from "../helpers";

const WRONG = "definitely not it";
const LOCK_MS = 15 * 60_000;
const DEVICE = { deviceId: "d", deviceName: null };

type Outcome = "ok" | { code: string | undefined; retryAfter: number | undefined };

function attempt(email: string, password: string, now: number): Promise<Outcome> {
  const { deps } = testDeps();
  return loginWithPassword(deps, { email, password, device: DEVICE }, NO_META, now).then(
    () => "ok" as const,
    (err: { code?: string; retryAfter?: number }) => ({ code: err.code, retryAfter: err.retryAfter }),
  );
}

/** Ten wrong passwords, each waiting out its delay: the account is then locked. Returns the time of the last. */
async function lockOut(email: string, start: number): Promise<number> {
  let now = start;
  for (let failures = 0; failures < 10; ) {
    const outcome = await attempt(email, WRONG, now);
    if (outcome !== "ok" && outcome.code === "too_many_attempts") {
      now += outcome.retryAfter! * 1000;
      continue;
    }
    expect(outcome).toMatchObject({ code: "invalid_credentials" });
    failures++;
  }
  expect(await attempt(email, PASSWORD, now + 1000)).toMatchObject({ code: "too_many_attempts" });
  return now;
}

const codeOf = (o: Outcome) => (o === "ok" ? "ok" : o.code);

describe("login lock decay", () => {
  it("after the lock expires, one wrong password does not lock the account again", async () => {
    const { email } = await signedInUser();
    const lockedAt = await lockOut(email, Date.now());
    const after = lockedAt + LOCK_MS + 1000;
    expect(await attempt(email, WRONG, after)).toMatchObject({ code: "invalid_credentials" });
    expect(await attempt(email, PASSWORD, after + 1000)).toBe("ok");
  });

  it("one wrong guess per lock window keeps nobody out", async () => {
    const { email } = await signedInUser();
    let now = await lockOut(email, Date.now());
    for (let round = 0; round < 4; round++) {
      now += LOCK_MS + 1000;
      expect(await attempt(email, WRONG, now)).toMatchObject({ code: "invalid_credentials" });
    }
    expect(await attempt(email, PASSWORD, now + 1000)).toBe("ok");
  });

  it("failures older than the window no longer count toward the delay", async () => {
    const { email } = await signedInUser();
    const start = Date.now();
    for (let i = 0; i < 4; i++) expect(await attempt(email, WRONG, start)).toMatchObject({ code: "invalid_credentials" });
    const later = start + LOCK_MS + 1000;
    for (let i = 0; i < 5; i++) expect(await attempt(email, WRONG, later)).toMatchObject({ code: "invalid_credentials" });
  });

  it("a burst right after the lock still gets only the budget before the delay", async () => {
    const { email } = await signedInUser();
    const after = (await lockOut(email, Date.now())) + LOCK_MS + 1000;
    const outcomes = await Promise.all(Array.from({ length: 30 }, () => attempt(email, WRONG, after)));
    const codes = outcomes.map(codeOf);
    expect(codes.filter((c) => c === "invalid_credentials")).toHaveLength(5);
    expect(codes.filter((c) => c === "too_many_attempts")).toHaveLength(25);
  });

  it("the object's alarm prunes failures that left the window", async () => {
    const { email } = await signedInUser();
    const longAgo = Date.now() - LOCK_MS - 60_000;
    for (let i = 0; i < 3; i++) expect(await attempt(email, WRONG, longAgo)).toMatchObject({ code: "invalid_credentials" });
    const subject = env.SUBJECTS.get(env.SUBJECTS.idFromName(`email:${email}`));
    expect(await runDurableObjectAlarm(subject)).toBe(true);
    const left = await runInDurableObject(subject, (_instance, state) =>
      state.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM login_failures`).one().n,
    );
    expect(left).toBe(0);
  });
});
