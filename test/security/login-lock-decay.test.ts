// Invariant: a login lock ends. Failed passwords are counted in a sliding window of
// LOGIN_LOCK_SECONDS and the count starts afresh when a lock expires, so one wrong guess every 15
// minutes cannot keep an account locked; the budget still holds after the lock, under a burst too;
// and lapsed failures are pruned by the object's alarm, not kept forever.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { codeOf, lockOut, loginAt, PASSWORD, signedInUser, userSubject } from "../helpers";

const WRONG = "definitely not it";
const LOCK_MS = 15 * 60_000;

describe("login lock decay", () => {
  it("after the lock expires, one wrong password does not lock the account again", async () => {
    const { email } = await signedInUser();
    const lockedAt = await lockOut(email, Date.now());
    const after = lockedAt + LOCK_MS + 1000;
    expect(await loginAt(email, WRONG, after)).toMatchObject({ code: "invalid_credentials" });
    expect(codeOf(await loginAt(email, PASSWORD, after + 1000))).toBe("ok");
  });

  it("one wrong guess per lock window keeps nobody out", async () => {
    const { email } = await signedInUser();
    let now = await lockOut(email, Date.now());
    for (let round = 0; round < 4; round++) {
      now += LOCK_MS + 1000;
      expect(await loginAt(email, WRONG, now)).toMatchObject({ code: "invalid_credentials" });
    }
    expect(codeOf(await loginAt(email, PASSWORD, now + 1000))).toBe("ok");
  });

  it("failures older than the window no longer count toward the delay", async () => {
    const { email } = await signedInUser();
    const start = Date.now();
    for (let i = 0; i < 4; i++) expect(await loginAt(email, WRONG, start)).toMatchObject({ code: "invalid_credentials" });
    const later = start + LOCK_MS + 1000;
    for (let i = 0; i < 5; i++) expect(await loginAt(email, WRONG, later)).toMatchObject({ code: "invalid_credentials" });
  });

  it("a burst right after the lock still gets only the budget before the delay", async () => {
    const { email } = await signedInUser();
    const after = (await lockOut(email, Date.now())) + LOCK_MS + 1000;
    const outcomes = await Promise.all(Array.from({ length: 30 }, () => loginAt(email, WRONG, after)));
    const codes = outcomes.map(codeOf);
    expect(codes.filter((c) => c === "invalid_credentials")).toHaveLength(5);
    expect(codes.filter((c) => c === "too_many_attempts")).toHaveLength(25);
  });

  it("the object's alarm prunes failures that left the window", async () => {
    const { email, tokens } = await signedInUser();
    const longAgo = Date.now() - LOCK_MS - 60_000;
    for (let i = 0; i < 3; i++) expect(await loginAt(email, WRONG, longAgo)).toMatchObject({ code: "invalid_credentials" });
    // The account's throttle is in the user's object.
    const subject = userSubject(tokens.user.id as string);
    expect(await runDurableObjectAlarm(subject)).toBe(true);
    const left = await runInDurableObject(subject, (_instance, state) =>
      state.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM login_failures`).one().n,
    );
    expect(left).toBe(0);
  });
});
