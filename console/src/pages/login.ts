import { auth, RESEND_SECONDS } from "../auth";
import { countdown, field, form, h, render, showError } from "../dom";
import { usePasskey } from "../passkey";
import { afterSignIn } from "./after-sign-in";

export async function loginPage(): Promise<void> {
  const query = new URLSearchParams(location.search);
  const note = query.has("verified")
    ? "Email verified successfully. You can now log in."
    : query.has("reset")
      ? "Your password was changed. Sign in with the new one."
      : "";
  // The sign-up page's choice, for accounts that phone or Google creates: used only by a first sign-in.
  const role = h(
    "fieldset",
    {},
    h("legend", {}, "New to the service? Account type"),
    h("label", {}, h("input", { type: "radio", name: "new-account-role", value: "CUSTOMER", checked: true }), "Customer"),
    h("label", {}, h("input", { type: "radio", name: "new-account-role", value: "PROVIDER" }), "Provider"),
  );
  const chosenRole = () => (role.querySelector<HTMLInputElement>("input:checked")?.value === "PROVIDER" ? "PROVIDER" : "CUSTOMER");
  const google = h("button", { type: "button", class: "secondary" }, "Continue with Google");
  google.addEventListener("click", async () =>
    location.assign(await auth.googleStartUrl(`${location.origin}/auth/callback`, { role: chosenRole() })),
  );
  render(
    "Sign in",
    note ? h("p", { class: "ok", role: "status" }, note) : "",
    form(
      "Sign in",
      [
        field("Email", "email", { type: "email", autocomplete: "email", value: query.get("email") ?? "", required: true }),
        field("Password", "password", { type: "password", autocomplete: "current-password", required: true }),
      ],
      async (v) => afterSignIn(await auth.login({ email: v.email!, password: v.password!, device_name: deviceName() })),
    ),
    h("p", {}, h("a", { href: "/forgot-password" }, "Forgot your password?"), " · ", h("a", { href: "/signup" }, "Create an account")),
    h("h2", {}, "With a passkey"),
    passkeyForm(),
    h("h2", {}, "With a code by email"),
    emailCodeForm(),
    role,
    h("h2", {}, "With your phone"),
    phoneForm(chosenRole),
    h("h2", {}, "With Google"),
    google,
  );
}

/**
 * A discoverable passkey: no username typed, the authenticator offers the passkeys it holds for this
 * site. A passkey with user verification is two factors; the answer still goes through afterSignIn.
 */
function passkeyForm(): HTMLFormElement {
  return form("Sign in with a passkey", [], async () => {
    const { challenge_id, ...options } = await auth.passkeySignInOptions();
    const credential = await usePasskey(options);
    afterSignIn(await auth.passkeySignIn({ challenge_id, credential: credential, device_name: deviceName() }));
  });
}

/**
 * Passwordless: the address, then the emailed six-digit code. Opened on request, so that until then
 * the page has one `Email` field (the password form's). The answer to a send is the same for every
 * address, so the page cannot say whether a code is on its way.
 */
function emailCodeForm(): HTMLElement {
  const box = h("section", { "aria-label": "Email code" });
  let email = "";
  const resend = h("button", { type: "button", class: "secondary" }, "Send code again");
  const codeForm = form(
    "Verify",
    [field("Verification code", "code", { inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: "6", required: true })],
    async (v) => afterSignIn(await auth.verifyEmailCode({ email, code: v.code!.trim(), device_name: deviceName() })),
  );
  const send = async () => {
    await auth.sendEmailCode({ email });
    countdown(resend, "Send code again", RESEND_SECONDS);
    box.replaceChildren(h("p", { role: "status" }, `If ${email} belongs to an account with a verified email, a sign-in code is on its way.`), codeForm, resend);
    codeForm.querySelector("input")?.focus();
  };
  resend.addEventListener("click", () =>
    send().catch((err: { status?: number; retryAfter?: number }) => {
      showError(codeForm, err);
      if (err.status === 429 && err.retryAfter) countdown(resend, "Send code again", err.retryAfter);
    }),
  );
  const open = h("button", { type: "button", class: "secondary" }, "Email me a code");
  open.addEventListener("click", () => {
    box.replaceChildren(
      form("Send code", [field("Email", "email", { type: "email", autocomplete: "email", required: true })], async (v) => {
        email = v.email!.trim();
        await send();
      }),
    );
    box.querySelector("input")?.focus();
  });
  box.append(open);
  return box;
}

/** The phone number first; then its six-digit code, with a resend button counting down. */
function phoneForm(chosenRole: () => "CUSTOMER" | "PROVIDER"): HTMLElement {
  const box = h("div", {});
  let phone = "";
  const resend = h("button", { type: "button", class: "secondary" }, "Send code again");
  const codeForm = form(
    "Verify",
    [field("Verification code", "otp", { inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: "6", required: true })],
    async (v) => afterSignIn(await auth.verifyPhoneOtp({ phone, otp: v.otp!.trim(), device_name: deviceName(), role: chosenRole() })),
  );
  const send = async () => {
    const sent = await auth.sendPhoneOtp({ phone });
    phone = sent.phone;
    countdown(resend, "Send code again", sent.resend_after_seconds);
    const hint = "otp" in sent && sent.otp ? ` (development code: ${String(sent.otp)})` : "";
    box.replaceChildren(h("p", { role: "status" }, `We sent a code to ${sent.phone}.${hint}`), codeForm, resend);
    codeForm.querySelector("input")?.focus();
  };
  resend.addEventListener("click", () =>
    send().catch((err: { status?: number; retryAfter?: number }) => {
      showError(codeForm, err);
      if (err.status === 429 && err.retryAfter) countdown(resend, "Send code again", err.retryAfter);
    }),
  );
  box.append(
    form("Send code", [field("Phone number", "phone", { type: "tel", autocomplete: "tel", required: true })], async (v) => {
      phone = v.phone!;
      await send();
    }),
  );
  return box;
}

/** A readable name for the sessions list ("Chrome on Linux"); the service also keeps the user agent. */
function deviceName(): string {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrome\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "Browser";
  const os = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Mac OS/.test(ua) ? "macOS" : /Windows/.test(ua) ? "Windows" : /Linux/.test(ua) ? "Linux" : "";
  return os ? `${browser} on ${os}` : browser;
}
