import { auth, AuthError } from "../auth";
import { field, form, h, render } from "../dom";
import { usePasskey } from "../passkey";
import { afterSignIn, clearChallenge, pendingChallenge, type PendingChallenge } from "./after-sign-in";

/** Where the passkey button for the second step is mounted. */
export const MFA_PASSKEY_MOUNT = "mfa-passkey";

const METHODS = {
  totp: { label: "Authenticator code", other: "Use your authenticator app instead", attrs: { inputmode: "numeric", pattern: "[0-9]{6}", maxlength: "6" } },
  recovery_code: { label: "Recovery code", other: "Use a recovery code instead", attrs: { autocapitalize: "off", spellcheck: "false" } },
} as const;
type Method = keyof typeof METHODS;

/** The second step of a sign-in that answered `mfa_required`: a code from the app, a recovery code, or a passkey. */
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
    h("p", {}, methods.length ? "Your account has a second factor. Enter a code from your authenticator app, or one of your recovery codes, or use a passkey if you have one." : "Your account has a second factor: use one of your passkeys."),
    box,
    h("div", { id: MFA_PASSKEY_MOUNT }, challenge.methods.includes("passkey") ? passkeyForm(challenge) : ""),
    h("p", {}, h("a", { href: "/login" }, "Sign in again")),
  );
  if (methods[0]) show(methods[0]);
}

function codeForm(challenge: PendingChallenge, method: Method): HTMLFormElement {
  const { label, attrs } = METHODS[method];
  return form("Verify", [field(label, "code", { ...attrs, autocomplete: "one-time-code", required: true })], (v) =>
    finish(() => auth.verifyMfa({ mfa_token: challenge.mfa_token, method, code: v.code!.trim() })),
  );
}

/** One of the user's passkeys as the second step: options bound to the mfa_token, then verify. */
function passkeyForm(challenge: PendingChallenge): HTMLFormElement {
  return form("Use a passkey", [], () =>
    finish(async () => {
      const credential = await usePasskey(await auth.mfaPasskeyOptions({ mfa_token: challenge.mfa_token }));
      return auth.verifyMfa({ mfa_token: challenge.mfa_token, method: "passkey", credential: credential });
    }),
  );
}

async function finish(verify: () => Promise<object>): Promise<void> {
  try {
    afterSignIn(await verify());
  } catch (err) {
    // The token is spent (too many wrong codes, expired, used): this step cannot finish any more.
    if (err instanceof AuthError && (err.code === "too_many_attempts" || err.code === "invalid_mfa_token")) {
      clearChallenge();
      return signInAgain(err.detail || err.message);
    }
    throw err;
  }
}

function signInAgain(reason: string): void {
  const next = new URLSearchParams(location.search).get("next");
  const login = next ? `/login?next=${encodeURIComponent(next)}` : "/login";
  render("Two-step verification", h("p", { class: "error", role: "alert" }, reason, " Sign in again to get a new one."), h("a", { href: login }, "Sign in again"));
}
