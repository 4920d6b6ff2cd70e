// Invariant: the verification routes tell nobody which addresses or numbers have accounts. Any
// code but the pending registration's right one answers 400 invalid_code, for an unknown address
// and a registered one alike; code checks are limited per client address; and a phone number
// given at sign-up is kept unproved, never refused or revealed there.
import { describe, expect, it } from "vitest";
import {
  expectProblem,
  lastCode,
  outcome,
  PASSWORD,
  phoneOf,
  post,
  registerUser,
  signedInUser,
  tally,
  uniqueEmail,
  uniqueIp,
  uniquePhone,
} from "../helpers";

const VERIFY_IP_LIMIT = 100;

describe("verification oracles", () => {
  it("verify-email answers the same for a registered address and an unknown one", async () => {
    const { email } = await signedInUser();
    const registered = await post("/auth/verify-email", { email, code: lastCode(email) });
    const unknown = await post("/auth/verify-email", { email: uniqueEmail(), code: "123456" });
    const a = await expectProblem(registered, 400, "invalid_code");
    const b = await expectProblem(unknown, 400, "invalid_code");
    expect(a).toEqual(b);
  });

  it("code checks are limited per client address, across addresses", async () => {
    const ip = uniqueIp();
    const answers = await Promise.all(
      Array.from({ length: VERIFY_IP_LIMIT + 5 }, () =>
        post("/auth/verify-email", { email: uniqueEmail(), code: "123456" }, { "CF-Connecting-IP": ip }),
      ),
    );
    expect(tally(await Promise.all(answers.map(outcome)))).toEqual({ "400 invalid_code": VERIFY_IP_LIMIT, "429 rate_limited": 5 });
    // Phone codes count against the same budget.
    await expectProblem(
      await post("/auth/phone/verify-otp", { phone: uniquePhone(), otp: "123456" }, { "CF-Connecting-IP": ip }),
      429,
      "rate_limited",
    );
  });

  it("register with a number another account holds is accepted; the number is not attached to the new account", async () => {
    const owner = await signedInUser({ phone: uniquePhone() });
    const { phone: ownersPhone } = (await phoneOf(owner.email))!;
    expect(ownersPhone).not.toBeNull();

    const email = uniqueEmail();
    const res = await post("/auth/register", { email, password: PASSWORD, full_name: "Other", phone: ownersPhone });
    expect(res.status).toBe(202);
    const verified = await post("/auth/verify-email", { email, code: lastCode(email) });
    expect(verified.status).toBe(200);
    expect((await verified.json<{ user: { phone: string | null } }>()).user.phone).toBeNull();
    expect((await phoneOf(owner.email))!.phone).toBe(ownersPhone);
  });

  it("a free number given at sign-up is kept, unproved", async () => {
    const phone = uniquePhone();
    const { email } = await registerUser({ phone });
    expect((await post("/auth/verify-email", { email, code: lastCode(email) })).status).toBe(200);
    expect(await phoneOf(email)).toEqual({ phone, verified: 0 });
  });
});
