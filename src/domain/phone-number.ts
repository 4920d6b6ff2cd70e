import { parsePhoneNumberWithError, type CountryCode } from "libphonenumber-js/max";

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
