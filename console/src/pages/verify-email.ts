import { auth, RESEND_SECONDS } from "../auth";
import { countdown, field, form, h, render, showError } from "../dom";
import { navigate } from "../router";
import { afterSignIn } from "./after-sign-in";

/** `/verify-email?email=`: the code from the email. `/verify-email?token=`: the emailed link's landing page. */
export async function verifyEmailPage(): Promise<void> {
  const query = new URLSearchParams(location.search);
  const token = query.get("token");
  if (token) return verifyLink(token);
  const email = query.get("email") ?? "";
  const resend = h("button", { type: "button", class: "secondary" }, "Resend code");
  const codeForm = form(
    "Verify",
    [
      field("Email", "email", { type: "email", autocomplete: "email", value: email, required: true }),
      field("Verification code", "code", { inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: "6", required: true }),
    ],
    async (v) => afterSignIn(await auth.verifyEmail({ email: v.email!, code: v.code!.trim() })),
  );
  resend.addEventListener("click", async () => {
    const address = codeForm.querySelector<HTMLInputElement>("input[name=email]")!.value;
    try {
      await auth.resendVerification({ email: address });
      countdown(resend, "Resend code", RESEND_SECONDS);
    } catch (err) {
      showError(codeForm, err);
      // The server's Retry-After says how long the cooldown really has left.
      const limited = err as { status?: number; retryAfter?: number };
      if (limited.status === 429) countdown(resend, "Resend code", limited.retryAfter ?? RESEND_SECONDS);
    }
  });
  if (email) countdown(resend, "Resend code", RESEND_SECONDS);
  render(
    "Check your email",
    h("p", {}, email ? `We sent a 6-digit code and a link to ${email}.` : "Enter the 6-digit code from the email we sent you."),
    codeForm,
    resend,
  );
}

/**
 * The link is only looked up on opening (mail scanners open links too); it is used with the password
 * chosen at sign-up, so that whoever opens someone else's link cannot activate that sign-up.
 */
async function verifyLink(token: string): Promise<void> {
  let email: string;
  try {
    ({ email } = await auth.lookupVerificationLink(token));
  } catch (err) {
    return render("Link not valid", h("p", { class: "error", role: "alert" }, (err as Error).message), h("a", { href: "/signup" }, "Sign up again"));
  }
  render(
    "Verify your email",
    h("p", {}, `Enter the password you chose when signing up as ${email}.`),
    form("Verify", [field("Password", "password", { type: "password", autocomplete: "current-password", required: true })], async (v) => {
      const answer = await auth.verifyLink({ token, password: v.password! });
      // The page shows sign-in, as the API's answer says: neither the session the link opened nor,
      // for an account with a second factor, its challenge is kept (signing in asks for it again).
      if (!("mfa_required" in answer)) await auth.logout();
      navigate(`/login?verified=1&email=${encodeURIComponent(email)}`, true);
    }),
  );
}
