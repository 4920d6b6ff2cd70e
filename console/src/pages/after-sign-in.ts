import type { MfaChallenge } from "../../../sdk/src/index";
import { navigate } from "../router";

// The second step's mfa_token lives in this tab's sessionStorage (it survives a reload of /mfa, never
// another tab or a closed browser) and only until it is used, burned or expired.
const CHALLENGE_KEY = "edge-auth.mfa-challenge";

export type PendingChallenge = { mfa_token: string; methods: string[]; expires_at: number };

/**
 * Where a sign-in goes next: back to the page that sent the visitor to /login, else /account; a
 * second-factor challenge first goes through /mfa, which calls this again with the tokens.
 */
export function afterSignIn(answer: object): void {
  const next = new URLSearchParams(location.search).get("next");
  // Only a path of this console: never an absolute or protocol-relative URL (open redirect).
  const target = next && /^\/(?!\/)/.test(next) ? next : "/account";
  if ("mfa_required" in answer) {
    const c = answer as MfaChallenge;
    const pending: PendingChallenge = { mfa_token: c.mfa_token, methods: c.methods, expires_at: Date.now() + c.expires_in * 1000 };
    sessionStorage.setItem(CHALLENGE_KEY, JSON.stringify(pending));
    return navigate(`/mfa?next=${encodeURIComponent(target)}`);
  }
  clearChallenge();
  navigate(target);
}

/** The challenge this tab is answering, unless there is none or it has expired. */
export function pendingChallenge(): PendingChallenge | null {
  try {
    const c = JSON.parse(sessionStorage.getItem(CHALLENGE_KEY) ?? "null") as PendingChallenge | null;
    if (c && typeof c.mfa_token === "string" && c.expires_at > Date.now()) return c;
  } catch {
    // Unreadable: treated as none.
  }
  clearChallenge();
  return null;
}

export function clearChallenge(): void {
  sessionStorage.removeItem(CHALLENGE_KEY);
}
