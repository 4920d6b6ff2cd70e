import { auth } from "../auth";
import { withReauth } from "../reauth";
import { field, form, h, showError } from "../dom";
import { navigate } from "../router";

/** What the user types to confirm: the word DELETE, or their email address. */
const CONFIRM_WORD = "DELETE";

/**
 * The "Delete account" part of /account: erasing the account needs the confirmation typed, and a
 * recent sign-in (a 403 reauthentication_required is shown as its detail, like any problem).
 */
export function deleteAccountSection(me: { email?: string | null }): HTMLElement {
  const prompt = me.email ? `Type ${CONFIRM_WORD} or your email address to confirm` : `Type ${CONFIRM_WORD} to confirm`;
  const deletion = form("Delete account", [field(prompt, "confirm", { autocomplete: "off", required: true })], async (v, el) => {
    const typed = (v.confirm ?? "").trim();
    if (typed !== CONFIRM_WORD && !(me.email && typed.toLowerCase() === me.email.toLowerCase())) {
      showError(el, { detail: `Type ${CONFIRM_WORD}${me.email ? " or your email address" : ""} to delete your account.` });
      return;
    }
    await withReauth(() => auth.deleteAccount());
    navigate("/login", true);
  });
  deletion.querySelector<HTMLButtonElement>("button[type=submit]")?.classList.add("danger");
  return h(
    "section",
    { "aria-label": "Delete account" },
    h("p", {}, "Deleting your account signs you out everywhere and erases your profile, sign-in methods and KYC documents. It cannot be undone."),
    deletion,
  );
}

/** The delete action of one user on /admin/users, behind a confirmation. */
export function adminDeleteButton(user: { id: string; email?: string | null; phone?: string | null }, item: HTMLElement): HTMLButtonElement {
  const button = h("button", { type: "button", class: "danger" }, "Delete");
  button.addEventListener("click", async () => {
    if (!confirm(`Delete the account of ${user.email ?? user.phone ?? user.id}? This erases it and cannot be undone.`)) return;
    button.disabled = true;
    try {
      await auth.admin.deleteUser(user.id);
      item.replaceChildren(h("p", { class: "ok", role: "status" }, "Account deleted"));
    } catch (err) {
      showError(item, err);
      button.disabled = false;
    }
  });
  return button;
}
