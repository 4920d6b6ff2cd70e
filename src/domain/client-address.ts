import ipaddr from "ipaddr.js";

/**
 * What a per-IP limit counts: an IPv4 address as it is, an IPv6 address by its /64. One customer
 * line is given a whole /64 (RFC 6177), so counting single IPv6 addresses would let one client
 * rotate through 2^64 of them past every limit. IPv4-mapped IPv6 addresses count as IPv4.
 * Null when there is no address (only local tools and tests send none); a value that is not an
 * address (Cloudflare always sends one) counts as the string it is.
 */
export function rateLimitSubject(ip: string | null): string | null {
  if (!ip) return null;
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    address = ipaddr.process(ip.trim());
  } catch {
    return ip;
  }
  if (address.kind() === "ipv4") return address.toString();
  const prefix = (address as ipaddr.IPv6).parts.slice(0, 4);
  return `${prefix.map((p) => p.toString(16)).join(":")}::/64`;
}
