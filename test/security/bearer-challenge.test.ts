// Invariant (RFC 6750 §3.1): a protected route asked without credentials answers 401 with a bare
// `Bearer` challenge and no error code; only a Bearer token that was sent and refused is answered
// with `error="invalid_token"`. Both keep the problem code `invalid_access_token`.
import { describe, expect, it } from "vitest";
import { adminUser, call, expectProblem } from "../helpers";

const PROTECTED = ["/users/me", "/auth/sessions", "/kyc/status", "/admin/users", "/admin/audit", "/admin/kyc"];

async function challenge(path: string, headers: Record<string, string>): Promise<string | null> {
  const res = await call(path, { headers });
  const header = res.headers.get("WWW-Authenticate");
  await expectProblem(res, 401, "invalid_access_token");
  return header;
}

describe("Bearer challenge", () => {
  it("names no error when no credentials were sent", async () => {
    for (const path of PROTECTED) {
      const header = await challenge(path, {});
      expect(header, path).toMatch(/^Bearer( realm="[^"]*")?$/);
    }
  });

  it("treats another scheme as no Bearer credentials", async () => {
    for (const authorization of ["Basic dXNlcjpwYXNz", "Digest username=\"x\"", "Token abc"]) {
      const header = await challenge("/users/me", { Authorization: authorization });
      expect(header, authorization).toMatch(/^Bearer( realm="[^"]*")?$/);
    }
  });

  it("answers error=\"invalid_token\" to a Bearer token that is refused", async () => {
    const admin = await adminUser();
    const [head, payload] = admin.token.split(".");
    for (const token of ["forged.token.value", `${head}.${payload}.AAAA`, "not a token", ""]) {
      for (const path of PROTECTED) {
        const header = await challenge(path, { Authorization: `Bearer ${token}` });
        expect(header, `${path} ${token}`).toBe('Bearer error="invalid_token"');
      }
    }
  });
});
