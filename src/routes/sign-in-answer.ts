import type { Context } from "hono";
import type { SignInResult } from "../domain/sign-in";

/**
 * The one place where the outcome of a sign-in becomes an HTTP answer: the token pair and the user,
 * then the flow's own fields (`created`, `notices`, `device_token`) and the route's (`message`).
 */
export function signInAnswer(c: Context, signedIn: SignInResult & object, more: object = {}) {
  if (signedIn.kind === "second_factor") {
    // No factor can be enrolled yet, so no account needs one: getting here is a bug, and inventing
    // an answer the API does not describe would be worse than the generic 500.
    throw new Error(`sign-in needs a second factor (${signedIn.methods.join(", ")}), which cannot be asked for yet`);
  }
  const { kind: _kind, tokens, user, ...flowFields } = signedIn;
  return c.json({ ...tokens, user, ...flowFields, ...more }, 200);
}
