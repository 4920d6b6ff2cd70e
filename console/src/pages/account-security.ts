import { auth } from "../auth";
import { field, form, h, showError } from "../dom";
import { withReauth } from "../reauth";
import { fillPasskeys } from "./account-passkeys";

/** Where the passkeys list is mounted (pages/account-passkeys.ts). */
export const PASSKEYS_MOUNT = "passkeys-section";

/** The Security part of /account (`/account#security`): the authenticator app, recovery codes, passkeys. */
export async function securitySection(): Promise<HTMLElement> {
  const section = h("section", { "aria-label": "Security" });
  await fill(section);
  return section;
}

async function fill(section: HTMLElement): Promise<void> {
  const status = await auth.mfaStatus();
  const error = h("p", { class: "error", role: "alert", "data-form-error": true });
  const totpBox = h("div", { class: "stack" });
  const passkeys = h("div", { id: PASSKEYS_MOUNT, class: "stack" });
  const button = (text: string, cls: string | undefined, onClick: () => Promise<void>) => {
    const b = h("button", { type: "button", class: cls }, text);
    b.addEventListener("click", async () => {
      b.disabled = true;
      error.textContent = "";
      // An old sign-in (403 reauthentication_required) first asks the user to confirm it's them.
      await withReauth(onClick).catch((err: unknown) => showError(section, err));
      b.disabled = false;
    });
    return b;
  };
  const actions = status.totp
    ? h(
        "div",
        { class: "row" },
        button("New recovery codes", "secondary", async () => {
          const { recovery_codes } = await auth.regenerateRecoveryCodes();
          showCodes(section, "New recovery codes made: the old ones no longer work.", recovery_codes);
        }),
        button("Turn off", "danger", async () => {
          await auth.disableTotp();
          await fill(section);
        }),
      )
    : h("div", { class: "row" }, button("Set up authenticator app", undefined, async () => enrol(section, totpBox)));
  section.replaceChildren(
    error,
    h("p", { "data-mfa-status": status.totp ? "on" : "off" }, status.totp ? `Authenticator app: on · ${status.recovery_codes_left} recovery codes left` : "Authenticator app: off"),
    status.required && !status.totp && !status.passkeys ? h("p", { class: "error" }, "Your role needs a second factor: set one up to use the admin pages.") : "",
    actions,
    totpBox,
    passkeys,
  );
  await fillPasskeys(passkeys);
}

/** The QR code (an image of the server's SVG, never inserted as markup), the secret as text, the first code. */
async function enrol(section: HTMLElement, box: HTMLElement): Promise<void> {
  const e = await auth.enrollTotp();
  const src = URL.createObjectURL(new Blob([e.qr_svg], { type: "image/svg+xml" }));
  const qr = h("img", { class: "qr", src, alt: "QR code for your authenticator app", width: "192", height: "192" });
  qr.addEventListener("load", () => URL.revokeObjectURL(src));
  box.replaceChildren(
    h("p", {}, "Scan this QR code with your authenticator app, or type in the secret, then enter the code it shows."),
    qr,
    h("p", {}, "Secret: ", h("code", { class: "secret" }, e.secret)),
    form(
      "Verify",
      [field("Authenticator code", "code", { inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: "6", required: true })],
      async (v) => {
        const { recovery_codes } = await withReauth(() => auth.confirmTotp({ code: v.code!.trim() }));
        showCodes(section, "Your authenticator app is on.", recovery_codes);
      },
    ),
  );
  box.querySelector("input")?.focus();
}

/** Shown this once: the server keeps only their hashes. */
function showCodes(section: HTMLElement, note: string, codes: string[]): void {
  const done = h("button", { type: "button", class: "secondary" }, "Done");
  done.addEventListener("click", () => void fill(section).catch((err: unknown) => showError(section, err)));
  const list = h("ul", { class: "list codes", "aria-label": "Recovery codes" }, ...codes.map((c) => h("li", {}, h("code", {}, c))));
  section.replaceChildren(
    h("p", { class: "ok", role: "status" }, note),
    h("p", {}, "Save these recovery codes somewhere safe. Each one works once if you lose your authenticator app; they are not shown again."),
    list,
    h("div", { class: "row" }, done),
  );
  done.focus();
}
