import { auth } from "./auth";
import { h, render } from "./dom";

/** The Security part of /account, where second factors are enrolled. */
export const SECURITY_PATH = "/account#security";

export type Page = (params: Record<string, string>) => Promise<void> | void;
type Route = { pattern: RegExp; keys: string[]; page: Page };

const routes: Route[] = [];

/** `route("/admin/kyc/:id", page)`: a path with `:name` segments. */
export function route(path: string, page: Page): void {
  const keys: string[] = [];
  const pattern = new RegExp(`^${path.replace(/:(\w+)/g, (_, k: string) => (keys.push(k), "([^/]+)"))}/?$`);
  routes.push({ pattern, keys, page });
}

export function navigate(path: string, replace = false): void {
  history[replace ? "replaceState" : "pushState"](null, "", path);
  void show();
}

// Whether the page on screen needs a session: only such a page follows a sign-out from another tab
// (re-showing any other page would race with its own navigation, e.g. the emailed link's page).
let needsSession = false;

/** Sends a signed-out visitor to /login, which comes back here after signing in. */
export async function requireSession() {
  needsSession = true;
  const session = await auth.getSession();
  if (!session) {
    navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, true);
    throw new Redirected();
  }
  return session;
}

/** Thrown to stop a page that has just navigated elsewhere. */
export class Redirected extends Error {}

export async function show(): Promise<void> {
  const path = location.pathname;
  needsSession = false;
  const match = routes.map((r) => ({ r, m: r.pattern.exec(path) })).find((x) => x.m);
  await renderNav();
  if (!match) return render("Page not found", h("p", {}, "There is no page here. ", h("a", { href: "/" }, "Home")));
  const params = Object.fromEntries(match.r.keys.map((k, i) => [k, decodeURIComponent(match.m![i + 1] ?? "")]));
  try {
    await match.r.page(params);
  } catch (err) {
    if (err instanceof Redirected) return;
    const { status, code, detail } = err as { status?: number; code?: string; detail?: string };
    // A role that needs a second factor (MFA_REQUIRED_ROLES) is sent to enrol one first.
    if (code === "mfa_enrollment_required") {
      return render("Set up a second factor", h("p", { class: "error", role: "alert" }, detail || "A second factor must be enrolled first."), h("a", { href: SECURITY_PATH }, "Set up a second factor"));
    }
    // The API decides who may see what; the console only says so.
    if (status === 403) return render("Not allowed", h("p", {}, "Your account may not open this page."));
    if (status === 401) return navigate(`/login?next=${encodeURIComponent(path)}`, true);
    render("Something went wrong", h("p", { class: "error", role: "alert" }, (err as Error).message));
  }
}

async function renderNav(): Promise<void> {
  const session = await auth.getSession();
  const link = (href: string, text: string) => h("a", { href }, text);
  const nav = document.getElementById("nav")!;
  if (!session) return nav.replaceChildren(link("/login", "Sign in"), link("/signup", "Sign up"));
  const role = session.user?.role;
  nav.replaceChildren(
    link("/account", "Account"),
    link("/kyc", "KYC"),
    role === "PROVIDER" ? link("/provider", "Provider") : "",
    role === "ADMIN" ? link("/admin/kyc", "KYC review") : "",
    role === "ADMIN" ? link("/admin/users", "Users") : "",
    role === "ADMIN" ? link("/admin/audit", "Audit") : "",
  );
}

/** Same-origin links move inside the console without a page load. */
export function startRouter(): void {
  document.addEventListener("click", (e) => {
    const a = (e.target as Element).closest?.("a");
    if (!a || a.target || a.hasAttribute("download") || e.ctrlKey || e.metaKey || e.shiftKey) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith("/api/") || url.pathname === "/docs") return;
    e.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  });
  addEventListener("popstate", () => void show());
  // Another tab signed in or out: this one follows.
  // Another tab signed out: this one follows (its page then sends it to /login); a sign-in only
  // changes the menu, since the tab that signed in moves on by itself.
  auth.onAuthStateChange((event) => {
    if (event === "SIGNED_OUT") void (needsSession ? show() : renderNav());
    else if (event === "SIGNED_IN") void renderNav();
  });
  void show();
}
