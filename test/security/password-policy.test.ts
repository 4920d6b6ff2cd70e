// Invariant: passwords are 8–128 characters with no composition rules, and common passwords, the
// account's own email, and (when the breached-password check is on) known-breached passwords are
// refused with 400 weak_password. The breached check sends only 5 hex digits of a SHA-1 and fails
// open when the service is slow or down.
import { afterEach, describe, expect, it, vi } from "vitest";
import { dictionary } from "@zxcvbn-ts/language-common";
import { env } from "cloudflare:workers";
import { COMMON_PASSWORDS_PATH, commonPasswordsOf } from "../../src/storage/common-passwords";
import { assertAcceptablePassword } from "../../src/domain/password-policy";
import { expectProblem, post, testDeps, uniqueEmail } from "../helpers";

function registerWith(password: string, email = uniqueEmail()) {
  return post("/auth/register", { email, password, full_name: "Policy" });
}

async function sha1(text: string) {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
}

afterEach(() => vi.restoreAllMocks());

describe("password policy", () => {
  it.each(["password", "12345678", "qwertyuiop", "iloveyou", "Password1", "sunshine"])("refuses the common password %s", async (pw) => {
    const body = await expectProblem(await registerWith(pw), 400, "weak_password");
    expect(body.errors[0].path).toBe("password");
  });

  it("keeps every common password of 8–128 characters from zxcvbn-ts's whole list (the generated asset has not drifted)", async () => {
    const long = dictionary["passwords-common"].map((w) => w.toLowerCase()).filter((w) => w.length >= 8 && w.length <= 128);
    const served = await (await env.ASSETS.fetch(new Request(`https://assets.local${COMMON_PASSWORDS_PATH}`))).text();
    expect(served.trimEnd().split("\n")).toEqual([...new Set(long)].sort());
  });

  it("refuses every password while the list cannot be read (503, nothing accepted unjudged), and reads it again once it can", async () => {
    const { deps } = testDeps();
    let answer = 404;
    const assets = {
      fetch: async (request: Request) => (answer === 200 ? env.ASSETS.fetch(request) : new Response("gone", { status: answer })),
    } as unknown as Fetcher;
    const broken = { ...deps, commonPasswords: commonPasswordsOf(assets) };
    const tries = await Promise.allSettled(Array.from({ length: 10 }, () => assertAcceptablePassword(broken, "a perfectly uncommon passphrase")));
    for (const t of tries) expect(t).toMatchObject({ status: "rejected", reason: { code: "service_unavailable", status: 503 } });
    answer = 200;
    await expect(assertAcceptablePassword(broken, "a perfectly uncommon passphrase")).resolves.toBeUndefined();
    await expect(assertAcceptablePassword(broken, "password1234")).rejects.toMatchObject({ code: "weak_password" });
  });

  it("refuses passwords from deep in the list, not only its top", async () => {
    const long = dictionary["passwords-common"].filter((w) => w.length >= 8);
    const { deps } = testDeps();
    for (const pw of [long[long.length - 1]!, long[Math.floor(long.length / 2)]!, long[long.length - 1]!.toUpperCase()]) {
      await expect(assertAcceptablePassword(deps, pw)).rejects.toMatchObject({ code: "weak_password" });
    }
  });

  it("refuses the account's own email or its local part", async () => {
    const email = uniqueEmail("longlocalpart");
    await expectProblem(await registerWith(email, email), 400, "weak_password");
    await expectProblem(await registerWith(email.split("@")[0]!, email), 400, "weak_password");
  });

  it("accepts an uncommon passphrase with no composition rules", async () => {
    expect((await registerWith("purple elephants dance quietly")).status).toBe(202);
  });

  it("refuses a breached password when the check is on, sending only a 5-digit prefix", async () => {
    const { deps } = testDeps();
    const config = { ...deps.config, pwnedPasswords: { enabled: true, timeoutMs: 500 } };
    const password = "an uncommon but breached passphrase";
    const hash = await sha1(password);
    const fetchSpy = vi
      .spyOn(globalThis, "fetch")
      .mockResolvedValue(new Response(`0000000000000000000000000000000000A:3\r\n${hash.slice(5)}:42\r\n`));
    await expect(assertAcceptablePassword({ ...deps, config }, password)).rejects.toMatchObject({ code: "weak_password" });
    const [url, init] = fetchSpy.mock.calls[0]!;
    expect(String(url)).toBe(`https://api.pwnedpasswords.com/range/${hash.slice(0, 5)}`);
    expect(String(url)).not.toContain(hash.slice(5));
    expect(new Headers(init?.headers).get("Add-Padding")).toBe("true");
  });

  it("accepts a password the range answer does not list, or lists with a count of 0 (padding)", async () => {
    const { deps } = testDeps();
    const config = { ...deps.config, pwnedPasswords: { enabled: true, timeoutMs: 500 } };
    const password = "another uncommon passphrase";
    const hash = await sha1(password);
    vi.spyOn(globalThis, "fetch").mockResolvedValue(new Response(`${hash.slice(5)}:0\r\nFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF:7`));
    await expect(assertAcceptablePassword({ ...deps, config }, password)).resolves.toBeUndefined();
  });

  it("fails open when the breached-password service errors or times out", async () => {
    const { deps } = testDeps();
    const config = { ...deps.config, pwnedPasswords: { enabled: true, timeoutMs: 50 } };
    vi.spyOn(globalThis, "fetch").mockRejectedValueOnce(new TypeError("network down"));
    await expect(assertAcceptablePassword({ ...deps, config }, "yet another passphrase")).resolves.toBeUndefined();
    vi.spyOn(globalThis, "fetch").mockImplementationOnce(
      (_input, init) =>
        new Promise((_resolve, reject) => init?.signal?.addEventListener("abort", () => reject(new DOMException("timeout", "TimeoutError")))),
    );
    await expect(assertAcceptablePassword({ ...deps, config }, "yet another passphrase")).resolves.toBeUndefined();
  });

  it("does not call the breached-password service when the check is off (the default)", async () => {
    const { deps } = testDeps();
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    await assertAcceptablePassword(deps, "one more uncommon passphrase");
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});
