// A few DOM helpers instead of a UI library: the console stays a few KiB (the budget is 60 KiB).

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | boolean | ((e: Event) => void) | undefined>;

/** `h("button", { type: "submit", onclick }, "Sign in")`: attributes, `on*` listeners, children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, value);
  }
  for (const child of children) if (child) el.append(child);
  return el;
}

let fieldSeq = 0;

/**
 * A labelled control; its error (from the problem's `errors[].path`) is shown under it. The label
 * holds only its text, so the control's accessible name is exactly that text.
 */
export function field(label: string, name: string, attrs: Attrs = {}, control?: HTMLInputElement | HTMLSelectElement): HTMLDivElement {
  const id = `f${++fieldSeq}`;
  const input = control ?? h("input", {});
  for (const [k, v] of Object.entries({ id, name, ...attrs, "aria-describedby": `${id}-err` })) if (typeof v === "string") input.setAttribute(k, v);
  for (const [k, v] of Object.entries(attrs)) if (v === true) input.setAttribute(k, "");
  return h("div", { class: "field" }, h("label", { for: id }, label), input, h("span", { class: "field-error", id: `${id}-err`, "data-error-for": name }));
}

export type ProblemLike = { detail?: string; code?: string; errors?: { path: string; message: string }[] };

/** The problem's `detail` at the top of the form and each `errors[].message` beside its field. */
export function showError(form: HTMLElement, err: unknown): void {
  clearError(form);
  const p = (err ?? {}) as ProblemLike;
  const detail = p.detail || (err instanceof Error ? err.message : "Something went wrong");
  const box = form.querySelector<HTMLElement>("[data-form-error]");
  if (box) box.textContent = detail;
  for (const e of p.errors ?? []) {
    const slot = form.querySelector<HTMLElement>(`[data-error-for="${CSS.escape(e.path.split(".")[0] ?? "")}"]`);
    if (slot) slot.textContent = e.message;
  }
}

export function clearError(form: HTMLElement): void {
  for (const el of form.querySelectorAll<HTMLElement>("[data-form-error], [data-error-for]")) el.textContent = "";
}

/**
 * A form whose submit handler gets its values; the button is disabled while it runs and a thrown
 * AuthError is shown in the form. Enter submits, as in any form: keyboard use needs nothing more.
 */
export function form(
  button: string,
  children: Child[],
  onSubmit: (values: Record<string, string>, form: HTMLFormElement) => Promise<void> | void,
): HTMLFormElement {
  const submit = h("button", { type: "submit" }, button);
  const el = h("form", { novalidate: true }, h("p", { class: "error", role: "alert", "data-form-error": true }), ...children, submit);
  el.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearError(el);
    submit.disabled = true;
    try {
      const values: Record<string, string> = {};
      for (const [k, v] of new FormData(el)) if (typeof v === "string") values[k] = v;
      await onSubmit(values, el);
    } catch (err) {
      showError(el, err);
    } finally {
      submit.disabled = false;
    }
  });
  return el;
}

/** Replaces the page's content and moves focus to it (screen readers and keyboards start there). */
export function render(title: string, ...children: Child[]): void {
  const app = document.getElementById("app")!;
  document.title = `${title} · edge-auth`;
  app.replaceChildren(h("h1", {}, title), ...children.filter((c): c is Node | string => Boolean(c)));
  app.focus({ preventScroll: true });
}

/** A button counting down `seconds` before it can be pressed again (resend cooldowns). */
export function countdown(button: HTMLButtonElement, label: string, seconds: number): void {
  let left = Math.max(0, Math.ceil(seconds));
  const tick = () => {
    button.disabled = left > 0;
    button.textContent = left > 0 ? `${label} (${left}s)` : label;
    if (left-- > 0) setTimeout(tick, 1000);
  };
  tick();
}

/** A date and time in the reader's own format, or "never". */
export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : "never");
