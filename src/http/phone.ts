import { parsePhoneNumberWithError } from "libphonenumber-js/max";
import { z } from "zod";

/** A phone number in international form, normalised to E.164 by libphonenumber (not a regex). */
export const PhoneField = z
  .string()
  .trim()
  .max(32)
  .transform((value, ctx) => {
    try {
      const parsed = parsePhoneNumberWithError(value);
      if (parsed.isValid()) return parsed.number;
    } catch {
      // fall through to the issue below
    }
    ctx.addIssue({ code: "custom", message: "Not a valid phone number in international format (+country code)" });
    return z.NEVER;
  });
