import { AppError } from "../http/errors";
import { base64url, fromBase64url } from "./crypto";

/** A position in a list ordered by (time, id): the last row of a page. */
export type Position = { at: Date; id: string };

/** An opaque page cursor: base64url of `[time in ms, id]`. */
export function encodeCursor(position: Position): string {
  return base64url(new TextEncoder().encode(JSON.stringify([position.at.getTime(), position.id])));
}

/** A cursor this service did not make is a 400 naming the `cursor` parameter. */
export function decodeCursor(cursor: string): Position {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(fromBase64url(cursor)));
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === "string") {
      return { at: new Date(value[0] as number), id: value[1] };
    }
  } catch {
    // falls through to the validation error
  }
  throw new AppError("validation_error", { errors: [{ path: "cursor", message: "Invalid cursor" }] });
}
