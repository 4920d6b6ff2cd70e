import { parsePhoneNumberWithError, type CountryCode } from "libphonenumber-js/max";
import { z } from "zod";

/**
 * A number normalised to E.164 by libphonenumber (not a regex), or null when it is not a valid one.
 * With `defaultRegion` (ISO 3166 alpha-2), a number in national form is read as that region's:
 * "01712345678" with "BD" is "+8801712345678". A number with its `+` country code ignores the region.
 */
export function toE164(value: string, defaultRegion?: string): string | null {
  try {
    const parsed = parsePhoneNumberWithError(value.trim(), defaultRegion ? { defaultCountry: defaultRegion as CountryCode } : undefined);
    if (parsed.isValid()) return parsed.number;
  } catch {
    // unparsable, or an unknown region: not a valid number either way
  }
  return null;
}

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
