import { AuthError, createAuthClient } from "../../sdk/src/index";

// The console is the SDK's first user: every API call goes through this one client, whose session
// lives in this origin's localStorage and is shared by its tabs.
export const auth = createAuthClient({ baseUrl: location.origin });
export { AuthError };

/** Seconds before a code can be sent again when the service did not say (RESEND_COOLDOWN_SECONDS). */
export const RESEND_SECONDS = 60;
