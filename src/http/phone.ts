import * as z from "zod";
import { toE164 } from "../domain/phone-number";

/** A phone number in international form, normalised to E.164 by libphonenumber (not a regex). */
export const PhoneField = z
  .string()
  .trim()
  .max(32)
  .transform((value, ctx) => {
    const e164 = toE164(value);
    if (e164) return e164;
    ctx.addIssue({ code: "custom", message: "Not a valid phone number in international format (+country code)" });
    return z.NEVER;
  });

/**
 * A phone number as the client typed it, parsed later with the configured default region (which
 * zod cannot see), so that a bad number answers `invalid_phone` rather than a validation error.
 */
export const PhoneInputField = z.string().max(64).meta({
  description: "E.164 (`+8801712345678`), or national form in the service's default region (`01712345678`)",
  example: "+8801712345678",
});
