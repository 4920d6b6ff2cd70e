// Usernames are shown as typed but unique by their canonical form: NFKC (so full-width and other
// compatibility forms fold into ASCII) and lower case, so `Pc`, `pc` and `ｐｃ` are one name.

export const USERNAME_PATTERN = /^[a-z0-9_.-]{3,30}$/i;

// Names that would let an account pass for the service or its staff.
const RESERVED = new Set([
  "abuse", "account", "accounts", "admin", "administrator", "anonymous", "api", "auth", "billing",
  "contact", "edgeauth", "email", "everyone", "help", "helpdesk", "hostmaster", "info", "login",
  "mail", "me", "mod", "moderator", "noreply", "null", "official", "owner", "postmaster", "register",
  "root", "security", "service", "services", "settings", "signup", "staff", "support", "system",
  "team", "undefined", "webmaster", "www",
]);

/** The form a username is typed into storage: NFKC, trimmed (case kept for display). */
export function normalizeUsername(raw: string): string {
  return raw.normalize("NFKC").trim();
}

/** The form uniqueness is decided on. */
export function usernameKey(username: string): string {
  return normalizeUsername(username).toLowerCase();
}

/** Reserved whatever the case or separators (`Ad-min`, `sup_port`). */
export function isReservedUsername(username: string): boolean {
  const key = usernameKey(username);
  return RESERVED.has(key) || RESERVED.has(key.replace(/[._-]/g, ""));
}
