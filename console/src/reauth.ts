import { auth } from "./auth";
import { field, form, h, showError } from "./dom";
import { usePasskey } from "./passkey";

// Step-up: routes that change how the account is protected answer 403 `reauthentication_required`
// when the sign-in is older than REAUTH_MAX_AGE_SECONDS (10 minutes). Any such action on /account
// goes through withReauth: the answer opens "Confirm it's you", and once the user has proved it
// (password, authenticator code or passkey: POST /auth/reauthenticate, a fresh auth_time for the
// same session) the action runs once more.

export const isReauthRequired = (err: unknown) => (err as { code?: string } | null)?.code === "reauthentication_required";

/**
 * Runs `action`; on `reauthentication_required` asks the user to confirm it's them, then runs it again
 * once. `password`: one the user has just typed for this action (the password change form's current
 * password), used as the proof without asking again.
 */
export async function withReauth<T>(action: () => Promise<T>, { password }: { password?: string } = {}): Promise<T> {
  try {
    return await action();
  } catch (err) {
    if (!isReauthRequired(err)) throw err;
  }
  if (password !== undefined) await auth.reauthenticate({ password });
  else await confirmItsYou();
  return action();
}

/** Thrown when the user closes the prompt: the action is not retried. */
export class ReauthCancelled extends Error {
  constructor() {
    super("Not changed: confirm it's you to make this change.");
  }
}

/** The modal prompt: resolves once reauthenticated, rejects with ReauthCancelled when closed. */
async function confirmItsYou(): Promise<void> {
  // Which proofs to offer: the authenticator code if the app is on, a passkey if there is one.
  const status = await auth.mfaStatus().catch(() => ({ totp: false, passkeys: 0 }));
  return new Promise<void>((resolve, reject) => {
    let done = false;
    const finish = () => {
      done = true;
      dialog.close();
      resolve();
    };
    const error = h("p", { class: "error", role: "alert", "data-form-error": true });
    const passkey = h("button", { type: "button", class: "secondary" }, "Use a passkey");
    passkey.addEventListener("click", async () => {
      passkey.disabled = true;
      error.textContent = "";
      try {
        const { challenge_id, ...options } = await auth.reauthenticateOptions();
        await auth.reauthenticate({ passkey: await usePasskey(options), challenge_id });
        finish();
      } catch (err) {
        showError(dialog, err);
      } finally {
        passkey.disabled = false;
      }
    });
    const cancel = h("button", { type: "button", class: "secondary" }, "Cancel");
    cancel.addEventListener("click", () => dialog.close());
    const dialog = h(
      "dialog",
      { "aria-labelledby": "reauth-title", class: "reauth" },
      h("h2", { id: "reauth-title" }, "Confirm it's you"),
      h("p", {}, "This change needs a recent sign-in. Confirm it's you to go on."),
      error,
      form("Confirm", [field("Password", "password", { type: "password", autocomplete: "current-password", required: true })], async (v) => {
        await auth.reauthenticate({ password: v.password! });
        finish();
      }),
      status.totp
        ? form(
            "Confirm with code",
            [field("Authenticator code", "totp", { inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: "6", required: true })],
            async (v) => {
              await auth.reauthenticate({ totp: v.totp!.trim() });
              finish();
            },
          )
        : "",
      h("div", { class: "row" }, status.passkeys > 0 ? passkey : "", cancel),
    );
    // Escape, Cancel, or a finished proof: the prompt leaves the page either way.
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (!done) reject(new ReauthCancelled());
    });
    document.body.append(dialog);
    dialog.showModal();
    dialog.querySelector("input")?.focus();
  });
}
