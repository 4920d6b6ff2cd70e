// Invariant: a code is good only for what it was sent for. A sign-in code cannot verify a sign-up or
// reset a password, and a sign-up's or a reset's code cannot sign in, even while both are live for
// the same address; a refused code of one kind leaves the other kind's code working.
import { describe, expect, it } from "vitest";
import {
  expectProblem,
  lastCode,
  PASSWORD,
  post,
  registerUser,
  sendEmailCode,
  signedInUser,
  verifyEmailCode,
  waitForMessages,
} from "../helpers";

describe("codes are bound to their purpose", () => {
  it("a sign-up's verification code does not sign in; it still verifies the sign-up", async () => {
    const { email } = await registerUser();
    const code = lastCode(email);
    await expectProblem(await verifyEmailCode(email, code), 400, "invalid_code");
    expect((await post("/auth/verify-email", { email, code, device_id: "d" })).status).toBe(200);
  });

  it("a reset code does not sign in, nor a sign-in code reset the password, while both are live", async () => {
    const { email } = await signedInUser();
    expect((await post("/auth/password-reset/request", { email })).status).toBe(202);
    await waitForMessages(email, 2);
    const resetCode = lastCode(email);
    const signInCode = await sendEmailCode(email);
    if (resetCode === signInCode) return; // 1 in a million: nothing to tell apart

    await expectProblem(await verifyEmailCode(email, resetCode), 400, "invalid_code");
    const newPassword = `${PASSWORD} again`;
    await expectProblem(await post("/auth/password-reset/confirm", { email, code: signInCode, new_password: newPassword }), 400, "invalid_code");
    await expectProblem(await post("/auth/verify-email", { email, code: signInCode, device_id: "d" }), 400, "invalid_code");

    expect((await verifyEmailCode(email, signInCode)).status).toBe(200);
    expect((await post("/auth/password-reset/confirm", { email, code: resetCode, new_password: newPassword })).status).toBe(200);
  });
});
