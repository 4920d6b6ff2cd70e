import { auth } from "../auth";
import { h, showError } from "../dom";

/**
 * "Your data" on /account: the export (GET /users/me/export) saved as one JSON file. Its KYC
 * documents are links inside it that work for 10 minutes, so the file is made when asked, not kept.
 */
export function exportSection(): HTMLElement {
  const button = h("button", { type: "button", class: "secondary" }, "Download my data");
  const status = h("p", { class: "ok", role: "status" });
  const section = h(
    "section",
    { "aria-label": "Your data" },
    h("p", {}, "One JSON file of everything this service holds about you. Links to your KYC documents in it work for 10 minutes."),
    h("p", { class: "error", role: "alert", "data-form-error": true }),
    button,
    status,
  );
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = "";
    try {
      const data = await auth.exportAccount();
      const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
      const link = h("a", { href: url, download: "account-export.json" });
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      status.textContent = `Saved account-export.json (${data.exported_at}).`;
    } catch (err) {
      showError(section, err);
    } finally {
      button.disabled = false;
    }
  });
  return section;
}
