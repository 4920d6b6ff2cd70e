// Cursor pagination over lists ordered by (time, id): opaque cursors and the read of one page.

import { AppError } from "../errors";
import { base64url, fromBase64url } from "./crypto";

/** A position in a list ordered by (time, id): the last row of a page. */
export type Position = { at: Date; id: string };

/** An opaque page cursor: base64url of `[time in ms, id]`. */
export function encodeCursor(position: Position): string {
  return base64url(new TextEncoder().encode(JSON.stringify([position.at.getTime(), position.id])));
}

/** The largest time a Date holds (ECMA-262 §21.4.1.1): beyond it, `new Date` is invalid. */
const MAX_DATE_MS = 8.64e15;
/** Row ids as this service writes them (crypto.randomUUID). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function isPosition(value: unknown): value is [number, string] {
  if (!Array.isArray(value) || value.length !== 2) return false;
  const [at, id] = value as [unknown, unknown];
  const validTime = typeof at === "number" && Number.isSafeInteger(at) && at >= 0 && at <= MAX_DATE_MS;
  return validTime && typeof id === "string" && UUID.test(id);
}

/**
 * A cursor this service did not make is a 400 naming the `cursor` parameter, also when it parses:
 * a position no row can have would otherwise answer an empty page as if the list had ended.
 */
export function decodeCursor(cursor: string): Position {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(fromBase64url(cursor)));
    if (isPosition(value)) return { at: new Date(value[0]), id: value[1] };
  } catch {
    // falls through to the validation error
  }
  throw new AppError("validation_error", { errors: [{ path: "cursor", message: "Invalid cursor" }] });
}

export type Page<T> = { items: T[]; nextCursor: string | null };

/**
 * One page of a listing ordered by (time, id): the rows after `cursor` (the first page without one),
 * read one row beyond `limit` to know whether a next page exists. `position` says where a row sits.
 */
export async function readPage<T>(
  page: { cursor: string | null; limit: number },
  read: (after: Position | null, limit: number) => Promise<T[]>,
  position: (row: T) => Position,
): Promise<Page<T>> {
  const after = page.cursor ? decodeCursor(page.cursor) : null;
  const rows = await read(after, page.limit + 1);
  const items = rows.slice(0, page.limit);
  return { items, nextCursor: rows.length > page.limit ? encodeCursor(position(items.at(-1)!)) : null };
}
