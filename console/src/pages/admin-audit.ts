import { auth } from "../auth";
import { field, form, h, render } from "../dom";
import { navigate, requireSession } from "../router";

/** The audit log, newest first, optionally about one user. */
export async function adminAuditPage(): Promise<void> {
  await requireSession();
  const params = new URLSearchParams(location.search);
  const userId = params.get("user_id") ?? "";
  const page = await auth.admin.audit({ ...(userId ? { user_id: userId } : {}), ...(params.get("cursor") ? { cursor: params.get("cursor")! } : {}) });
  const list = h("ul", { class: "list", "aria-label": "Events" });
  for (const e of page.events) {
    list.append(
      h(
        "li",
        {},
        h("strong", {}, e.action),
        h("span", { class: "muted" }, `${new Date(e.at).toLocaleString()} · actor ${e.actor_id ?? "anonymous"} · subject ${e.subject_id ?? "-"}${e.ip ? ` · ${e.ip}` : ""}`),
        e.details ? h("code", {}, JSON.stringify(e.details)) : "",
      ),
    );
  }
  render(
    "Audit log",
    form("Filter", [field("User id", "user_id", { value: userId })], (v) => navigate(`/admin/audit?user_id=${encodeURIComponent(v.user_id ?? "")}`)),
    page.events.length ? list : h("p", {}, "No events."),
    page.next_cursor ? h("a", { href: `/admin/audit?user_id=${encodeURIComponent(userId)}&cursor=${encodeURIComponent(page.next_cursor)}` }, "Next page") : "",
  );
}
