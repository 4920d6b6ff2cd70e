import { auth } from "../auth";
import { h, showError } from "../dom";
import { withReauth } from "../reauth";

type Identity = Awaited<ReturnType<typeof auth.identities>>["identities"][number];

// Removable here; passkeys are removed from their own list, the email code goes with the email.
const REMOVABLE = new Set(["google", "phone", "password"]);

const LABELS: Record<Identity["type"], string> = {
  password: "Password",
  email_code: "Email code",
  phone: "Phone",
  google: "Google",
  passkey: "Passkey",
};

/** The Sign-in methods part of /account: every way in, each removable one with a Remove button. */
export async function identitiesSection(): Promise<HTMLElement> {
  const section = h("section", { "aria-label": "Sign-in methods" });
  await fill(section);
  return section;
}

async function fill(section: HTMLElement): Promise<void> {
  const { identities } = await auth.identities();
  const list = h("ul", { class: "list", "aria-label": "Sign-in methods" });
  for (const identity of identities) {
    const item = h("li", { "data-identity": identity.type }, h("strong", {}, LABELS[identity.type]), h("span", { class: "muted" }, detailOf(identity)));
    if (REMOVABLE.has(identity.type)) {
      const remove = h("button", { type: "button", class: "secondary" }, "Remove");
      remove.addEventListener("click", async () => {
        remove.disabled = true;
        try {
          // 409 last_sign_in_method and 403 reauthentication_required are shown from their detail.
          await withReauth(() => auth.unlinkIdentity(identity.type as "google" | "phone" | "password"));
          await fill(section);
        } catch (err) {
          showError(section, err);
          remove.disabled = false;
        }
      });
      item.append(h("div", { class: "row" }, remove));
    }
    list.append(item);
  }
  section.replaceChildren(h("p", { class: "error", role: "alert", "data-form-error": true }), list);
}

function detailOf(identity: Identity): string {
  switch (identity.type) {
    case "password":
      return "Sign in with your email and password";
    case "email_code":
      return identity.email;
    case "phone":
      return identity.phone;
    case "google":
      return `${identity.email ?? "Google account"} · linked ${new Date(identity.linked_at).toLocaleString()}`;
    case "passkey":
      return `${identity.name} · added ${new Date(identity.created_at).toLocaleString()}`;
  }
}
