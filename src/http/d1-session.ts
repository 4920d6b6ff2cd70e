// Which D1 copy a request may read (D1 read replication through the Sessions API). The client keeps
// the bookmark of its last answer and sends it back, so it reads its own writes from any replica.

/** Sent back by the client and set on every answer that touched D1 (exposed to browsers by CORS). */
export const BOOKMARK_HEADER = "X-D1-Bookmark";

// D1 bookmarks are hex groups joined by dashes (`0000000a-00000002-00004f7b-<32 hex>`); anything
// else is ignored rather than handed to D1, whose error would be a 500.
const BOOKMARK = /^[0-9a-f]{1,64}(?:-[0-9a-f]{1,64}){1,7}$/i;

// GET routes that must read the primary: the ones that write (a verification link, Google's
// callback) and the ones behind a role or KYC gate, which decide on the row as stored now.
const PRIMARY_READS = /^\/api\/v1\/(?:admin|provider)\/|^\/api\/v1\/auth\/(?:verify|google\/callback)\/?$/;

export type D1Start = D1SessionConstraint | D1SessionBookmark;

/**
 * Writes (any method but GET and HEAD) start at the primary: they read before they write (a password
 * hash, a uniqueness check, an attempt counter) and must see the latest row. Reads that tolerate lag
 * start at any replica, or at the client's bookmark when it sent one, which is at least as new as
 * the client's own last write.
 */
export function d1Start(method: string, path: string, bookmark: string | undefined): D1Start {
  if ((method !== "GET" && method !== "HEAD") || PRIMARY_READS.test(path)) return "first-primary";
  return validBookmark(bookmark) ?? "first-unconstrained";
}

export function validBookmark(value: string | undefined): string | null {
  return value !== undefined && value.length <= 256 && BOOKMARK.test(value) ? value : null;
}
