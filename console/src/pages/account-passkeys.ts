import { auth } from "../auth";
import { field, form, h, showError, when } from "../dom";
import { createPasskey } from "../passkey";
import { withReauth } from "../reauth";

type Passkey = Awaited<ReturnType<typeof auth.passkeys>>["passkeys"][number];

/**
 * The passkeys part of Security on /account: the list (name, created, last used, backed up), rename,
 * delete after a confirmation, and `Add a passkey`. Adding and deleting need a recent sign-in: they
 * go through withReauth. A refusal (409 last_sign_in_method, for one) is shown as its detail.
 */
export async function fillPasskeys(box: HTMLElement): Promise<void> {
  const { passkeys } = await auth.passkeys();
  const error = h("p", { class: "error", role: "alert", "data-form-error": true });
  const refill = () => fillPasskeys(box).catch((err: unknown) => showError(box, err));
  const list = h("ul", { class: "list", "aria-label": "Passkeys" }, ...passkeys.map((p) => item(box, p, refill)));
  const add = form(
    "Add a passkey",
    [field("Passkey name", "name", { maxlength: "100", autocomplete: "off" })],
    async (v) => {
      const name = v.name?.trim();
      await withReauth(async () => {
        const credential = await createPasskey(await auth.passkeyRegistrationOptions());
        await auth.addPasskey({ credential: credential, ...(name ? { name } : {}) });
      });
      await refill();
      box.querySelector<HTMLElement>("[role=status]")!.textContent = "Passkey added.";
    },
  );
  box.replaceChildren(
    h("h3", {}, "Passkeys"),
    h("p", { class: "ok", role: "status" }),
    error,
    passkeys.length ? list : h("p", { class: "muted" }, "No passkeys yet. A passkey signs you in with your device's screen lock, and cannot be phished."),
    add,
  );
}

function item(box: HTMLElement, p: Passkey, refill: () => Promise<void>): HTMLLIElement {
  const actions = h("div", { class: "row" });
  const li = h(
    "li",
    { "data-passkey": p.id },
    h("strong", {}, p.name),
    h("span", { class: "muted" }, `Created ${when(p.created_at)} · last used ${when(p.last_used_at)} · ${p.backed_up ? "backed up" : "not backed up"}`),
    actions,
  );
  const act = (text: string, cls: string, run: () => Promise<void>) => {
    const b = h("button", { type: "button", class: cls }, text);
    b.addEventListener("click", async () => {
      b.disabled = true;
      box.querySelector<HTMLElement>("[role=status]")!.textContent = "";
      await run().catch((err: unknown) => showError(box, err));
      b.disabled = false;
    });
    return b;
  };
  const buttons = () =>
    actions.replaceChildren(
      act("Rename", "secondary", async () => {
        const rename = form("Save name", [field("Passkey name", "name", { value: p.name, maxlength: "100", required: true })], async (v) => {
          await auth.renamePasskey(p.id, { name: v.name!.trim() });
          await refill();
        });
        const cancel = act("Cancel", "secondary", async () => buttons());
        actions.replaceChildren(rename, cancel);
        rename.querySelector("input")?.focus();
      }),
      act("Delete", "danger", async () => {
        // Asked in the page, not with confirm(): it reads like the rest and keyboards reach it.
        actions.replaceChildren(
          h("p", {}, `Delete the passkey "${p.name}"? It will no longer sign you in.`),
          act("Yes, delete", "danger", async () => {
            await withReauth(() => auth.deletePasskey(p.id));
            await refill();
          }),
          act("Cancel", "secondary", async () => buttons()),
        );
      }),
    );
  buttons();
  return li;
}
