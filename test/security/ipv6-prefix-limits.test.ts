// Invariant: per-IP limits count an IPv6 client by its /64, the block one customer line is given,
// so rotating through addresses of one /64 buys no extra SMS sends or registrations; IPv4 counts
// by the address, and an IPv4-mapped IPv6 address counts as its IPv4 address.
import { describe, expect, it } from "vitest";
import { rateLimitSubject } from "../../src/domain/client-address";
import { outcome, PASSWORD, post, tally, uniqueEmail, uniquePhone } from "../helpers";

const LIMIT = 20;

/** 25 distinct addresses of one random /64 (documentation prefix 2001:db8::/32). */
function addressesOfOnePrefix(count: number): string[] {
  const [a, b] = crypto.getRandomValues(new Uint16Array(2));
  const prefix = `2001:db8:${a!.toString(16)}:${b!.toString(16)}`;
  return Array.from({ length: count }, (_, i) => `${prefix}:${(i + 1).toString(16)}:0:0:${(i * 7 + 3).toString(16)}`);
}

describe("IPv6 per-IP limits", () => {
  it("25 SMS sends from 25 addresses of one /64 pass a limit of 20 only 20 times", async () => {
    const answers = await Promise.all(
      addressesOfOnePrefix(25).map((ip) => post("/auth/phone/send-otp", { phone: uniquePhone() }, { "CF-Connecting-IP": ip })),
    );
    const counts = tally(await Promise.all(answers.map(outcome)));
    expect(counts).toEqual({ "200 ok": LIMIT, "429 rate_limited": 5 });
    for (const res of answers.filter((r) => r.status === 429)) expect(res.headers.get("Retry-After")).toMatch(/^\d+$/);
  });

  it("25 registrations from 25 addresses of one /64 pass a limit of 20 only 20 times", async () => {
    const answers = await Promise.all(
      addressesOfOnePrefix(25).map((ip) =>
        post("/auth/register", { email: uniqueEmail("v6"), password: PASSWORD, full_name: "V6" }, { "CF-Connecting-IP": ip }),
      ),
    );
    expect(tally(await Promise.all(answers.map(outcome)))).toEqual({ "202 ok": LIMIT, "429 rate_limited": 5 });
  });

  it("keys IPv6 by its /64 and IPv4 by the address", () => {
    expect(rateLimitSubject("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(rateLimitSubject("2001:0db8:0001:0002:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(rateLimitSubject("2001:db8:1:3::1")).not.toBe(rateLimitSubject("2001:db8:1:2::1"));
    expect(rateLimitSubject("::ffff:198.51.100.7")).toBe("198.51.100.7");
    expect(rateLimitSubject("198.51.100.7")).toBe("198.51.100.7");
    expect(rateLimitSubject("198.51.100.8")).not.toBe(rateLimitSubject("198.51.100.7"));
    expect(rateLimitSubject(null)).toBeNull();
  });
});
