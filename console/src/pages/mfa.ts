import { auth, AuthError } from "../auth";
import { field, form, h, render } from "../dom";
import { afterSignIn, clearChallenge, pendingChallenge, type PendingChallenge } from "./after-sign-in";

/** Where a passkey button for the second step is mounted (passkeys come with a later change). */
export const MFA_PASSKEY_MOUNT = "mfa-passkey";

const METHODS = {
  totp: { label: "Authenticator code", other: "Use your authenticator app instead", attrs: { inputmode: "numeric", pattern: "[0-9]{6}", maxlength: "6" } },
  recovery_code: { label: "Recovery code", other: "Use a recovery code instead", attrs: { autocapitalize: "off", spellcheck: "false" } },
} as const;
type Method = keyof typeof METHODS;

/** The second step of a sign-in that answered `mfa_required`: a code from the app, or a recovery code. */
export function mfaPage(): void {
  const challenge = pendingChallenge();
  if (!challenge) return signInAgain("This sign-in step has expired or was already used.");
  const methods = (Object.keys(METHODS) as Method[]).filter((m) => challenge.methods.includes(m));
  const box = h("div", {});
  const show = (method: Method) => {
    const switches = methods.filter((m) => m !== method).map((m) => {
      const b = h("button", { type: "button", class: "secondary" }, METHODS[m].other);
      b.addEventListener("click", () => show(m));
      return b;
    });
    box.replaceChildren(codeForm(challenge, method), switches.length ? h("div", { class: "row" }, ...switches) : "");
    box.querySelector("input")?.focus();
  };
  render(
    "Two-step verification",
    h("p", {}, "Your account has a second factor. Enter a code from your authenticator app, or one of your recovery codes."),
    box,
    h("div", { id: MFA_PASSKEY_MOUNT }),
    h("p", {}, h("a", { href: "/login" }, "Sign in again")),
  );
  if (methods[0]) show(methods[0]);
}

function codeForm(challenge: PendingChallenge, method: Method): HTMLFormElement {
  const { label, attrs } = METHODS[method];
  return form("Verify", [field(label, "code", { ...attrs, autocomplete: "one-time-code", required: true })], async (v) => {
    try {
      afterSignIn(await auth.verifyMfa({ mfa_token: challenge.mfa_token, method, code: v.code!.trim() }));
    } catch (err) {
      // The token is spent (too many wrong codes, expired, used): this step cannot finish any more.
      if (err instanceof AuthError && (err.code === "too_many_attempts" || err.code === "invalid_mfa_token")) {
        clearChallenge();
        return signInAgain(err.detail || err.message);
      }
      throw err;
    }
  });
}

function signInAgain(reason: string): void {
  const next = new URLSearchParams(location.search).get("next");
  const login = next ? `/login?next=${encodeURIComponent(next)}` : "/login";
  render("Two-step verification", h("p", { class: "error", role: "alert" }, reason, " Sign in again to get a new one."), h("a", { href: login }, "Sign in again"));
}
