import { auth } from "../auth";
import { field, form, h, render, showError } from "../dom";
import { requireSession, show } from "../router";

const STATUSES = ["PENDING", "APPROVED", "REJECTED"] as const;

/** The review queue: applications by status, oldest first, a page at a time. */
export async function adminKycPage(): Promise<void> {
  await requireSession();
  const query = new URLSearchParams(location.search);
  const status = (STATUSES as readonly string[]).includes(query.get("status") ?? "") ? (query.get("status") as (typeof STATUSES)[number]) : "PENDING";
  const page = await auth.admin.kyc({ status, ...(query.get("cursor") ? { cursor: query.get("cursor")! } : {}) });
  const filter = h(
    "nav",
    { class: "row", "aria-label": "Status" },
    ...STATUSES.map((s) => (s === status ? h("strong", {}, s) : h("a", { href: `/admin/kyc?status=${s}` }, s))),
  );
  const list = h("ul", { class: "list", "aria-label": "Applications" });
  for (const a of page.applications) {
    list.append(
      h(
        "li",
        {},
        h("a", { href: `/admin/kyc/${a.id}` }, a.user.full_name ?? a.user.email ?? a.user.phone ?? a.user.id),
        h("span", { class: "muted" }, `${a.document_type} · ${a.status} · submitted ${new Date(a.submitted_at).toLocaleString()}`),
      ),
    );
  }
  render(
    "KYC review",
    filter,
    page.applications.length ? list : h("p", {}, "Nothing here."),
    page.next_cursor ? h("a", { href: `/admin/kyc?status=${status}&cursor=${encodeURIComponent(page.next_cursor)}` }, "Next page") : "",
  );
}

/** One application: who, the documents shown inline (PDFs as a download), Approve, Reject with a reason. */
export async function adminKycApplicationPage({ id }: Record<string, string>): Promise<void> {
  await requireSession();
  const { application: a } = await auth.admin.kycApplication(id!);
  const docs = h("section", { "aria-label": "Documents" });
  for (const d of a.documents) {
    const blob = await auth.admin.kycDocument(a.id, d.id);
    const url = URL.createObjectURL(blob);
    docs.append(
      h("h3", {}, d.kind),
      d.content_type === "application/pdf"
        ? h("a", { href: url, download: `${d.kind}.pdf` }, `Download ${d.kind} (PDF)`)
        : h("img", { class: "doc", src: url, alt: `${a.document_type} ${d.kind}` }),
    );
  }
  const decided = a.status !== "PENDING";
  const approve = h("button", { type: "button" }, "Approve");
  const actions = h("section", { "aria-label": "Decision" }, h("p", { class: "error", role: "alert", "data-form-error": true }), approve);
  approve.addEventListener("click", async () => {
    approve.disabled = true;
    try {
      await auth.admin.approveKyc(a.id);
      await show();
    } catch (err) {
      showError(actions, err);
      approve.disabled = false;
    }
  });
  const reject = form("Reject", [field("Reason", "reason", { required: true, maxlength: "500" })], async (v) => {
    await auth.admin.rejectKyc(a.id, { reason: v.reason! });
    await show();
  });
  render(
    "KYC application",
    h(
      "section",
      { "aria-label": "Applicant" },
      h("p", {}, h("strong", {}, a.user.full_name ?? "(no name)"), ` · ${a.user.email ?? a.user.phone ?? a.user.id} · ${a.user.role}`),
      h("p", {}, `${a.document_type} · status ${a.status}`, a.rejection_reason ? ` · reason: ${a.rejection_reason}` : ""),
    ),
    docs,
    decided ? h("p", { role: "status" }, `Decided ${a.decided_at ? new Date(a.decided_at).toLocaleString() : ""}.`) : actions,
    decided ? "" : reject,
    h("p", {}, h("a", { href: "/admin/kyc" }, "Back to the queue")),
  );
}
