import { auth } from "../auth";
import { field, form, h, render } from "../dom";
import { navigate } from "../router";

export function forgotPasswordPage(): void {
  const done = h("p", { class: "ok", role: "status" });
  render(
    "Forgot your password?",
    form("Send reset link", [field("Email", "email", { type: "email", autocomplete: "email", required: true })], async (v, f) => {
      await auth.requestPasswordReset({ email: v.email! });
      // The same answer whether or not the account exists (no account oracle).
      done.textContent = `Check your email: if ${v.email} has an account, a reset link and code are on their way.`;
      f.replaceWith(done);
    }),
  );
}

/** `/reset-password?token=` (the emailed link) or, without one, the emailed code with the address. */
export function resetPasswordPage(): void {
  const token = new URLSearchParams(location.search).get("token");
  const newPassword = field("New password", "new_password", { type: "password", autocomplete: "new-password", required: true, minlength: "8" });
  const fields = token
    ? [newPassword]
    : [
        field("Email", "email", { type: "email", autocomplete: "email", required: true }),
        field("Verification code", "code", { inputmode: "numeric", autocomplete: "one-time-code", maxlength: "6", required: true }),
        newPassword,
      ];
  render(
    "Choose a new password",
    form("Set password", fields, async (v) => {
      await auth.confirmPasswordReset(
        token ? { token, new_password: v.new_password! } : { email: v.email!, code: v.code!.trim(), new_password: v.new_password! },
      );
      navigate("/login?reset=1", true);
    }),
  );
}
