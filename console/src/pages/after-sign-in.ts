import { navigate } from "../router";

/** Where a sign-in goes next: back to the page that sent the visitor to /login, else /account. */
export function afterSignIn(answer: object): void {
  if ("mfa_required" in answer) throw new Error("This account needs a second factor, which the console does not offer yet.");
  const next = new URLSearchParams(location.search).get("next");
  // Only a path of this console: never an absolute or protocol-relative URL (open redirect).
  navigate(next && /^\/(?!\/)/.test(next) ? next : "/account");
}
