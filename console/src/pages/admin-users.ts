import { auth } from "../auth";
import { field, form, h, render, showError } from "../dom";
import { navigate, requireSession } from "../router";
import { adminDeleteButton } from "./account-delete";

const ROLES = ["CUSTOMER", "PROVIDER", "ADMIN"] as const;

/** Search users; change a role, deactivate or reactivate, end every session of one. */
export async function adminUsersPage(): Promise<void> {
  await requireSession();
  const params = new URLSearchParams(location.search);
  const query = params.get("query") ?? "";
  const page = await auth.admin.users({ ...(query ? { query } : {}), ...(params.get("cursor") ? { cursor: params.get("cursor")! } : {}) });
  const search = form("Search", [field("Search", "query", { type: "search", value: query })], (v) => navigate(`/admin/users?query=${encodeURIComponent(v.query ?? "")}`));
  const list = h("ul", { class: "list", "aria-label": "Users" });
  for (const u of page.users) list.append(userItem(u));
  render(
    "Users",
    search,
    page.users.length ? list : h("p", {}, "No users found."),
    page.next_cursor ? h("a", { href: `/admin/users?query=${encodeURIComponent(query)}&cursor=${encodeURIComponent(page.next_cursor)}` }, "Next page") : "",
  );
}

type AdminUser = Awaited<ReturnType<typeof auth.admin.users>>["users"][number];

function userItem(u: AdminUser): HTMLLIElement {
  const status = h("p", { class: "ok", role: "status" });
  const role = h("select", { id: `role-${u.id}`, name: "role" }, ...ROLES.map((r) => h("option", { value: r, selected: r === u.role }, r)));
  const active = h("button", { type: "button", class: u.is_active ? "danger" : "secondary" }, u.is_active ? "Deactivate" : "Activate");
  const revoke = h("button", { type: "button", class: "secondary" }, "Revoke sessions");
  const item = h(
    "li",
    {},
    h("strong", {}, u.full_name ?? u.email ?? u.phone ?? u.id),
    h("span", { class: "muted" }, [u.email, u.phone, `KYC ${u.kyc_status}`, u.is_active ? "active" : "deactivated"].filter(Boolean).join(" · ")),
    h("div", { class: "field" }, h("label", { for: `role-${u.id}` }, "Role"), role),
    h("p", { class: "error", role: "alert", "data-form-error": true }),
    h("div", { class: "row" }, active, revoke),
    status,
  );
  item.querySelector(".row")!.append(adminDeleteButton(u, item));
  const act = (fn: () => Promise<string>) => async () => {
    status.textContent = "";
    try {
      status.textContent = await fn();
    } catch (err) {
      showError(item, err);
    }
  };
  role.addEventListener("change", act(async () => `Role: ${(await auth.admin.updateUser(u.id, { role: role.value as AdminUser["role"] })).role}`));
  active.addEventListener(
    "click",
    act(async () => {
      const updated = await auth.admin.updateUser(u.id, { is_active: !u.is_active });
      u.is_active = updated.is_active;
      active.textContent = u.is_active ? "Deactivate" : "Activate";
      return u.is_active ? "Activated" : "Deactivated: signed out everywhere";
    }),
  );
  revoke.addEventListener("click", act(async () => `${(await auth.admin.revokeSessions(u.id)).revoked} session(s) revoked`));
  return item;
}
