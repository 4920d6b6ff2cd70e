import { auth } from "../auth";
import { h, render } from "../dom";
import { afterSignIn } from "./after-sign-in";

/** Google's hand-off: `#code=` (a fragment, never sent to a server) exchanged once for tokens. */
export async function authCallbackPage(): Promise<void> {
  const hash = new URLSearchParams(location.hash.slice(1));
  // The code works once: drop it from the address bar and history before using it.
  history.replaceState(null, "", location.pathname);
  const code = hash.get("code");
  if (!code) {
    const declined = hash.get("error") === "access_denied";
    return render("Google sign-in", h("p", { class: "error", role: "alert" }, declined ? "Google sign-in was cancelled." : "Google sign-in did not finish."), h("a", { href: "/login" }, "Back to sign in"));
  }
  render("Google sign-in", h("p", { role: "status" }, "Signing you in…"));
  try {
    afterSignIn(await auth.googleExchange({ code }));
  } catch (err) {
    render("Google sign-in", h("p", { class: "error", role: "alert" }, (err as Error).message), h("a", { href: "/login" }, "Back to sign in"));
  }
}
