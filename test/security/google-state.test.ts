// Invariant: /auth/google/callback goes on only with a `state` this service issued less than 10
// minutes ago, only once, and only in the browser that started the flow (the HttpOnly, Secure,
// SameSite=Lax `__Host-` cookie set by /auth/google/start). A missing, unknown, expired or reused
// state, or one without its cookie, answers 400 invalid_state, and Google's code is never redeemed.
import { describe, expect, it } from "vitest";
import { takeGoogleState } from "../../src/domain/google";
import { browserSignIn, googleCallback, googleCodeFor, googleIdToken, newGoogleAccount, startGoogle, tokenRequests } from "../helpers/google-fake";
import { expectProblem, testDeps } from "../helpers";

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A started flow and a Google code that would sign in, if the callback let it through. */
async function pendingFlow(deviceId: string) {
  const started = await startGoogle(deviceId);
  const code = googleCodeFor(await googleIdToken(newGoogleAccount(), { nonce: started.nonce }));
  return { ...started, code };
}

/** Asserts 400 invalid_state and that Google's token endpoint was not called for it. */
async function expectRefused(request: Promise<Response>) {
  const before = tokenRequests.length;
  await expectProblem(await request, 400, "invalid_state");
  expect(tokenRequests.length).toBe(before);
}

describe("Google callback state", () => {
  it("the state cookie is __Host-, HttpOnly, Secure, SameSite=Lax and holds a hash, not the state", async () => {
    const { res, state, cookie } = await startGoogle("cookie-check");
    const header = res.headers.get("Set-Cookie")!;
    expect(header).toMatch(/^__Host-google-state=[0-9a-f]{64}; /);
    expect(header).toContain("HttpOnly");
    expect(header).toContain("Secure");
    expect(header).toContain("SameSite=Lax");
    expect(header).toContain("Path=/");
    expect(header).toContain("Max-Age=600");
    expect(header).not.toContain(state);
    expect(cookie).toBe(`__Host-google-state=${await sha256Hex(state)}`);
  });

  it("a missing state is refused", async () => {
    const flow = await pendingFlow("missing-state");
    await expectRefused(googleCallback({ code: flow.code }, flow.cookie));
    await expectRefused(googleCallback({ code: flow.code, state: "" }, flow.cookie));
  });

  it("an unknown state is refused, even with a cookie that matches it", async () => {
    const flow = await pendingFlow("unknown-state");
    const forged = "A".repeat(43);
    await expectRefused(googleCallback({ code: flow.code, state: forged }, `__Host-google-state=${await sha256Hex(forged)}`));
    await expectRefused(googleCallback({ code: flow.code, state: "x".repeat(500) }, flow.cookie));
  });

  it("a state is single use: replaying a completed callback is refused", async () => {
    const { started } = await browserSignIn(newGoogleAccount(), "replay");
    const code = googleCodeFor(await googleIdToken(newGoogleAccount(), { nonce: started.nonce }));
    await expectRefused(googleCallback({ code, state: started.state }, started.cookie));
  });

  it("a state without its browser's cookie is refused, and is spent by the attempt", async () => {
    const flow = await pendingFlow("no-cookie");
    await expectRefused(googleCallback({ code: flow.code, state: flow.state }));
    // The planted link burned the state: even the right browser cannot use it now.
    await expectRefused(googleCallback({ code: flow.code, state: flow.state }, flow.cookie));
  });

  it("a state with another flow's cookie (another browser) is refused", async () => {
    const victim = await pendingFlow("victim-browser");
    const attacker = await pendingFlow("attacker-browser");
    await expectRefused(googleCallback({ code: attacker.code, state: attacker.state }, victim.cookie));
    await expectRefused(googleCallback({ code: victim.code, state: victim.state }, `${attacker.cookie.split("=")[0]}=${"0".repeat(64)}`));
  });

  it("a state older than 10 minutes is refused", async () => {
    const flow = await pendingFlow("expired");
    const { deps } = testDeps();
    const cookie = flow.cookie.split("=")[1];
    await expect(takeGoogleState(deps, { state: flow.state, cookie }, Date.now() + 601_000)).rejects.toMatchObject({
      code: "invalid_state",
      status: 400,
    });
    // control: a fresh flow taken in time passes the same check
    const fresh = await pendingFlow("in-time");
    const taken = await takeGoogleState(deps, { state: fresh.state, cookie: fresh.cookie.split("=")[1] }, Date.now() + 590_000);
    expect(taken.device_id).toBe("in-time");
  });
});
