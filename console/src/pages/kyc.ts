import { auth } from "../auth";
import { field, form, h, render } from "../dom";
import { requireSession, show } from "../router";

const TYPES = [
  ["passport", "Passport"],
  ["national_id", "National ID"],
  ["driving_license", "Driving licence"],
] as const;

/** The user's KYC status (with the rejection reason) and, when none is pending or approved, the form. */
export async function kycPage(): Promise<void> {
  await requireSession();
  const status = await auth.kycStatus();
  const summary = h(
    "section",
    { "aria-label": "Status" },
    h("p", {}, "Status: ", h("strong", {}, status.status)),
    status.rejection_reason ? h("p", { class: "error" }, `Rejected: ${status.rejection_reason}`) : "",
    status.application ? h("p", { class: "muted" }, `Submitted ${new Date(status.application.submitted_at).toLocaleString()}`) : "",
  );
  const canSubmit = status.status === "NOT_SUBMITTED" || status.status === "REJECTED";
  render("Identity verification (KYC)", summary, canSubmit ? submitForm() : "");
}

function submitForm(): HTMLFormElement {
  const type = field("Document type", "document_type", {}, h("select", {}, ...TYPES.map(([value, text]) => h("option", { value }, text))));
  const files = ([["front", "Front"], ["back", "Back"], ["selfie", "Selfie"]] as const).map(([name, label]) =>
    withPreview(field(label, name, { type: "file", accept: "image/jpeg,image/png,application/pdf", required: name === "front" })),
  );
  return form("Submit", [type, ...files], async (v, f) => {
    const file = (name: string) => {
      const chosen = f.querySelector<HTMLInputElement>(`input[name=${name}]`)?.files?.[0];
      return chosen && chosen.size > 0 ? chosen : undefined;
    };
    const front = file("front");
    // Checked here only to point at the field; the API refuses a submission without it anyway.
    if (!front) throw Object.assign(new Error("Choose the front of the document."), { errors: [{ path: "front", message: "Required" }] });
    await auth.submitKyc({ document_type: v.document_type as (typeof TYPES)[number][0], front, back: file("back"), selfie: file("selfie") });
    await show();
  });
}

/** Shows the chosen image under its input before it is sent (a blob: URL; the CSP allows img-src blob:). */
function withPreview(label: HTMLDivElement): HTMLDivElement {
  const input = label.querySelector("input")!;
  const preview = h("img", { class: "doc preview", alt: "Preview of the chosen file", hidden: true });
  input.addEventListener("change", () => {
    const file = input.files?.[0];
    if (preview.src) URL.revokeObjectURL(preview.src);
    preview.hidden = !file || !file.type.startsWith("image/");
    if (file && !preview.hidden) preview.src = URL.createObjectURL(file);
  });
  label.append(preview);
  return label;
}

/** The KYC-gated dashboard: the API answers 403 kyc_required until an admin approves, with no new login. */
export async function providerPage(): Promise<void> {
  await requireSession();
  const res = await auth.fetch("/api/v1/provider/dashboard");
  if (res.status === 403) {
    const problem = (await res.json().catch(() => ({}))) as { code?: string; detail?: string };
    if (problem.code === "kyc_required")
      return render("Provider dashboard", h("p", {}, "Your identity is not verified yet. "), h("a", { href: "/kyc" }, "Go to KYC"));
    return render("Not allowed", h("p", {}, problem.detail ?? "Your account may not open this page."));
  }
  if (!res.ok) throw Object.assign(new Error(`The dashboard answered ${res.status}`), { status: res.status });
  const body = (await res.json()) as { message: string; user: { full_name: string | null; email: string | null } };
  render("Provider dashboard", h("p", { class: "ok", role: "status" }, body.message), h("p", {}, `Signed in as ${body.user.full_name ?? body.user.email ?? ""}.`));
}
