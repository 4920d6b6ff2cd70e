import * as z from "zod";

// The query and answer fields of cursor-paginated listings; the page itself is read by
// src/domain/pagination.ts and answered by presentPage (src/presenters.ts).

export const LimitField = z.coerce.number().int().min(1).max(100).default(20);

/** A `cursor` query parameter: the `next_cursor` of the previous page. */
export const CursorField = z.string().max(512);

/** `next_cursor`: null on the last page. */
export const NextCursorField = z.string().nullable();
