import { parsePhoneNumberWithError, type CountryCode } from "libphonenumber-js/mobile";

// libphonenumber-js's "mobile" metadata (24 KiB gzipped against the full set's 39): it validates
// mobile numbers precisely and refuses the others. Every number here is one a code is sent to by
// SMS, which a fixed line cannot receive.

/**
 * A mobile number normalised to E.164 by libphonenumber (not a regex), or null when it is not a
 * valid one (a fixed line included).
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
