import { auth } from "../auth";
import { field, form, h, render, showError, when } from "../dom";
import { withReauth } from "../reauth";
import { navigate, requireSession } from "../router";
import { contactSection } from "./account-contact";
import { deleteAccountSection } from "./account-delete";
import { securitySection } from "./account-security";
import { identitiesSection } from "./account-identities";
import { exportSection } from "./account-export";

export async function accountPage(): Promise<void> {
  await requireSession();
  const [me, { sessions }, security, identities] = await Promise.all([auth.me(), auth.sessions(), securitySection(), identitiesSection()]);
  const signOut = h("button", { type: "button", class: "secondary" }, "Sign out");
  const everywhere = h("button", { type: "button", class: "danger" }, "Sign out everywhere");
  const actions = h("section", { "aria-label": "Sign out" }, h("p", { class: "error", role: "alert", "data-form-error": true }), h("div", { class: "row" }, signOut, everywhere));
  signOut.addEventListener("click", async () => {
    await auth.logout();
    navigate("/login", true);
  });
  everywhere.addEventListener("click", async () => {
    try {
      await auth.logoutAll();
      navigate("/login", true);
    } catch (err) {
      showError(actions, err);
    }
  });

  const saved = h("p", { class: "ok", role: "status" });
  render(
    "Your account",
    h("p", {}, `${me.email ?? me.phone ?? ""} · ${me.role} · email ${me.is_email_verified ? "verified" : "not verified"} · KYC ${me.kyc_status}`),
    h("h2", {}, "Profile"),
    form("Save profile", [field("Full name", "full_name", { autocomplete: "name", value: me.full_name ?? "" }), saved], async (v) => {
      const user = await auth.updateProfile({ full_name: v.full_name! });
      saved.textContent = `Saved: ${user.full_name ?? ""}`;
    }),
    h("h2", {}, "Email, phone and password"),
    contactSection(me),
    h("h2", {}, "Sessions"),
    h("section", { "aria-label": "Sessions" }, sessionList(sessions)),
    actions,
    h("h2", {}, "Password"),
    passwordForm(),
    h("h2", { id: "security" }, "Security"),
    security,
    h("h2", { id: "identities" }, "Sign-in methods"),
    identities,
    h("h2", { id: "data" }, "Your data"),
    exportSection(),
    h("h2", {}, "Delete account"),
    deleteAccountSection(me),
  );
  // `/account#security`: where a role that needs a second factor is sent to enrol one.
  if (location.hash === "#security") document.getElementById("security")?.scrollIntoView();
}

type SessionRow = Awaited<ReturnType<typeof auth.sessions>>["sessions"][number];

/** One item per session, the current one marked "This device"; the others can be ended here. */
function sessionList(sessions: SessionRow[]): HTMLElement {
  const list = h("ul", { class: "list", "aria-label": "Sessions" });
  for (const s of sessions) {
    const item = h(
      "li",
      { "data-session": s.id },
      h("strong", {}, s.device_name || s.device_id, " ", s.current ? h("span", { class: "badge" }, "This device") : ""),
      h("span", { class: "muted" }, [s.user_agent, s.ip].filter(Boolean).join(" · ")),
      h("span", { class: "muted" }, `Signed in ${when(s.created_at)}, last used ${when(s.last_used_at)}`),
    );
    if (!s.current) {
      const revoke = h("button", { type: "button", class: "secondary" }, "Revoke");
      revoke.addEventListener("click", async () => {
        revoke.disabled = true;
        await auth.revokeSession(s.id).catch(() => undefined);
        item.remove();
      });
      item.append(h("div", { class: "row" }, revoke));
    }
    list.append(item);
  }
  return list;
}

function passwordForm(): HTMLFormElement {
  const done = h("p", { class: "ok", role: "status" });
  return form(
    "Change password",
    [
      field("Current password", "current_password", { type: "password", autocomplete: "current-password", required: true }),
      field("New password", "new_password", { type: "password", autocomplete: "new-password", required: true, minlength: "8" }),
      done,
    ],
    async (v, f) => {
      // Signed in more than 10 minutes ago: the current password typed here is the fresh proof.
      await withReauth(() => auth.changePassword({ current_password: v.current_password!, new_password: v.new_password! }), {
        password: v.current_password!,
      });
      f.reset();
      done.textContent = "Password changed. Your other sessions were signed out.";
    },
  );
}
