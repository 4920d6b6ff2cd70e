import type { Context } from "hono";
import type { SignInResult } from "../domain/sign-in";

/**
 * The one place where the outcome of a sign-in becomes an HTTP answer: the token pair and the user,
 * then the flow's own fields (`created`, `notices`, `device_token`) and the route's (`message`); or,
 * for an account with a second factor, the challenge that POST /auth/mfa/verify finishes.
 */
export function signInAnswer(c: Context, signedIn: SignInResult & object, more: object = {}) {
  if (signedIn.kind === "second_factor") {
    const { challenge, methods } = signedIn;
    return c.json({ mfa_required: true as const, mfa_token: challenge.mfaToken, methods, expires_in: challenge.expiresIn }, 200);
  }
  const { kind: _kind, tokens, user, ...flowFields } = signedIn;
  return c.json({ ...tokens, user, ...flowFields, ...more }, 200);
}
