// Which D1 copy a request may read (D1 read replication through the Sessions API). The client keeps
// the bookmark of its last answer and sends it back, so it reads its own writes from any replica.

/** Sent back by the client and set on every answer that touched D1 (exposed to browsers by CORS). */
export const BOOKMARK_HEADER = "X-D1-Bookmark";

// D1 bookmarks are hex groups joined by dashes (`00000000-00000008-00000000-<32 hex>`); anything
// else is ignored rather than handed to D1, whose error would be a 500.
const BOOKMARK = /^[0-9a-f]{1,64}(?:-[0-9a-f]{1,64}){1,7}$/i;

// GET routes that must read the primary: the ones that write (a verification link, Google's
// callback); the ones behind a role or KYC gate, which decide on the row as stored now; and the ones
// that show sessions, whose rows the user's Durable Object writes to the primary itself, outside any
// request's session, so that no bookmark the client holds covers them.
const PRIMARY_READS =
  /^\/api\/v1\/(?:admin|provider)\/|^\/api\/v1\/auth\/(?:verify|google\/callback|sessions)\/?$|^\/api\/v1\/users\/me\/export(?:\/|$)/;

// A write whose only D1 query is a read that tolerates lag: refresh reads the user for the role it
// copies into the new access token (the hot-path cache may answer it too); the rotation itself is
// the user's Durable Object's.
const LAG_TOLERANT_WRITES = /^\/api\/v1\/auth\/refresh\/?$/;

export type D1Start = D1SessionConstraint | D1SessionBookmark;

/**
 * Writes (any method but GET and HEAD) start at the primary: they read before they write (a password
 * hash, a uniqueness check, an attempt counter) and must see the latest row. Reads that tolerate lag
 * start at any replica, or at the client's bookmark when it sent one, which is at least as new as
 * the client's own last write; so does refresh, the one write whose D1 query tolerates lag.
 */
export function d1Start(method: string, path: string, bookmark: string | undefined): D1Start {
  const reads = method === "GET" || method === "HEAD" ? !PRIMARY_READS.test(path) : LAG_TOLERANT_WRITES.test(path);
  if (!reads) return "first-primary";
  return validBookmark(bookmark) ?? "first-unconstrained";
}

export function validBookmark(value: string | undefined): string | null {
  return value !== undefined && value.length <= 256 && BOOKMARK.test(value) ? value : null;
}
