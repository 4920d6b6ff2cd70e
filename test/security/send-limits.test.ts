// Invariant: messages that carry codes are limited per address and per client IP, exactly under a
// burst: at most 5 emails per address per hour (registration and resends together), 20
// registrations and 30 code emails per IP per hour by default; each refusal is 429 rate_limited
// with Retry-After, and a delivery failure gives back what it took.
import { describe, expect, it } from "vitest";
import { register, resendVerification } from "../../src/domain/registration";
import { DeliveryError } from "../../src/delivery/errors";
import { expectProblem, messagesTo, NO_META, PASSWORD, post, testDeps, uniqueEmail, uniqueIp } from "../helpers";

const MINUTE = 60_000;

function input(email: string) {
  return { email, password: PASSWORD, fullName: "Limits", username: null, phone: null, role: "CUSTOMER" as const };
}

describe("send limits", () => {
  it("sends at most 5 verification emails per address per hour", async () => {
    const { deps, settle } = testDeps();
    const email = uniqueEmail();
    const start = Date.now();
    await register(deps, input(email), NO_META, start);
    const outcomes: string[] = [];
    for (let i = 1; i <= 5; i++) {
      outcomes.push(
        await resendVerification(deps, email, NO_META, start + i * 2 * MINUTE).then(
          () => "sent",
          (e: { code: string }) => e.code,
        ),
      );
    }
    await settle();
    expect(outcomes).toEqual(["sent", "sent", "sent", "sent", "rate_limited"]);
    expect(messagesTo(email)).toHaveLength(5);
    // A new hour, a new budget.
    await resendVerification(deps, email, NO_META, start + 61 * MINUTE);
    await settle();
    expect(messagesTo(email)).toHaveLength(6);
  });

  it("limits registrations per client IP, exactly under a burst", async () => {
    const ip = uniqueIp();
    const answers = await Promise.all(
      Array.from({ length: 25 }, () =>
        post("/auth/register", { email: uniqueEmail("burst"), password: PASSWORD, full_name: "Burst" }, { "CF-Connecting-IP": ip }),
      ),
    );
    expect(answers.filter((r) => r.status === 202)).toHaveLength(20);
    const refused = answers.filter((r) => r.status === 429);
    expect(refused).toHaveLength(5);
    await expectProblem(refused[0]!, 429, "rate_limited");
    expect(Number(refused[0]!.headers.get("Retry-After"))).toBeGreaterThan(0);
  });

  it("a failed delivery answers 502, leaves no usable code and starts no cooldown", async () => {
    const { deps } = testDeps();
    const email = uniqueEmail();
    const failing = { ...deps, mailer: { send: () => Promise.reject(new DeliveryError("test", "HTTP 500")) } };
    await expect(register(failing, input(email), NO_META, Date.now())).rejects.toMatchObject({ code: "delivery_failed", status: 502 });
    expect(messagesTo(email)).toHaveLength(0);
    // Nothing pending: the code that was never delivered cannot be used...
    const verify = await post("/auth/verify-email", { email, code: "000000" });
    await expectProblem(verify, 400, "invalid_code");
    // ...and no cooldown was started: registering again at once works.
    expect((await post("/auth/register", { email, password: PASSWORD, full_name: "Again" })).status).toBe(202);
    expect(messagesTo(email)).toHaveLength(1);
  });
});
