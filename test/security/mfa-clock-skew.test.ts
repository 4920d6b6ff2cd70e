// Invariant: a TOTP code is accepted within one 30-second step of the server's clock either way
// (RFC 6238 §5.2) and refused two steps away; an mfa_token lives five minutes. The domain is called with `now` chosen; the codes are
// made for chosen times with otpauth.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { openMfaChallenge } from "../../src/domain/mfa-challenge";
import { verifyMfa } from "../../src/domain/mfa-verify";
import { totpStepOf } from "../../src/domain/totp";
import { findUserById } from "../../src/storage/users";
import { database } from "../../src/storage/db";
import { enrolTotp, NO_META, signedInUser, testDeps, totpCode } from "../helpers";

const HOUR = 3_600_000;
const DEVICE = { deviceId: "skew-device", deviceName: null };

async function verifyAt(userId: string, secret: string, now: number, skewSteps: number) {
  const { deps, settle } = testDeps();
  const user = (await findUserById(database(env.DB), userId))!;
  const { mfaToken } = await openMfaChallenge(deps, user, { method: "password", device: DEVICE, meta: NO_META, now });
  const code = totpCode(secret, skewSteps, now);
  const result = verifyMfa(deps, { mfaToken, method: "totp", code }, NO_META, now);
  return { result, settle };
}

describe("TOTP clock skew", () => {
  it("accepts a code one step behind or ahead", async () => {
    const { tokens } = await signedInUser();
    const { secret } = await enrolTotp(tokens.access_token as string);
    const base = Date.now();
    for (const [at, skew] of [[base + HOUR, -1], [base + 2 * HOUR, 1]] as const) {
      const { result, settle } = await verifyAt(tokens.user.id, secret, at, skew);
      await expect(result).resolves.toMatchObject({ kind: "session" });
      await settle();
    }
  });

  it("refuses a code two steps behind or ahead", async () => {
    const { tokens } = await signedInUser();
    const { secret } = await enrolTotp(tokens.access_token as string);
    const base = Date.now();
    for (const [at, skew] of [[base + HOUR, -2], [base + 2 * HOUR, 2]] as const) {
      const { result, settle } = await verifyAt(tokens.user.id, secret, at, skew);
      await expect(result).rejects.toMatchObject({ code: "invalid_code", status: 400 });
      await settle();
    }
  });

  it("an mfa_token past its five minutes is invalid_mfa_token, even with a right code", async () => {
    const { tokens } = await signedInUser();
    const { secret } = await enrolTotp(tokens.access_token as string);
    const { deps, settle } = testDeps();
    const user = (await findUserById(database(env.DB), tokens.user.id))!;
    const opened = Date.now() + HOUR;
    const { mfaToken } = await openMfaChallenge(deps, user, { method: "password", device: DEVICE, meta: NO_META, now: opened });
    const late = opened + 300_000;
    await expect(verifyMfa(deps, { mfaToken, method: "totp", code: totpCode(secret, 0, late) }, NO_META, late)).rejects.toMatchObject({
      code: "invalid_mfa_token",
      status: 401,
    });
    await settle();
  });

  it("places a code in its step: the step of now ± 1, never further", async () => {
    const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    const now = 1_800_000_000_000;
    const step = Math.floor(now / 30_000);
    expect(await totpStepOf(secret, totpCode(secret, 0, now), now)).toBe(step);
    expect(await totpStepOf(secret, totpCode(secret, -1, now), now)).toBe(step - 1);
    expect(await totpStepOf(secret, totpCode(secret, 1, now), now)).toBe(step + 1);
    expect(await totpStepOf(secret, totpCode(secret, 2, now), now)).toBeNull();
    expect(await totpStepOf(secret, "12345", now)).toBeNull();
  });
});
