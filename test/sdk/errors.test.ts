// Every problem+json answer reaches the app as an AuthError with the contract's fields, and a 429
// carries the server's Retry-After, so a resend button can count down the real cooldown.
import { describe, expect, it } from "vitest";
import { AuthError } from "../../sdk/src/index";
import { uniqueEmail } from "../helpers";
import { sdkClient } from "./sdk-helpers";

describe("AuthError", () => {
  it("carries status, code, field errors and, on a 429, Retry-After", async () => {
    const { client } = sdkClient();
    const email = uniqueEmail("sdk-errors");
    await client.register({ email, password: "correct horse battery staple", full_name: "Errors" });

    const limited = await client.resendVerification({ email }).then(() => client.resendVerification({ email })).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(AuthError);
    expect(limited).toMatchObject({ status: 429, code: "rate_limited" });
    expect((limited as AuthError).retryAfter).toBeGreaterThanOrEqual(1);
    expect((limited as AuthError).retryAfter).toBeLessThanOrEqual(60);

    const invalid = (await client.register({ email: "not-an-email", password: "x", full_name: "" }).catch((e: unknown) => e)) as AuthError;
    expect(invalid).toMatchObject({ status: 400, code: "validation_error" });
    expect(invalid.errors.map((e) => e.path)).toContain("email");
    expect(invalid.retryAfter).toBeUndefined();
  });
});
