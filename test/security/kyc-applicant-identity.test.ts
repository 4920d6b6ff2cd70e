// Invariant: the admin KYC queue presents only proved identifiers as the applicant's. An email typed
// at phone sign-up (never proved, possibly someone else's) is never the applicant's `email`: it is
// shown only as `unverified_email`; a phone number typed at email sign-up is never their `phone`.
import { describe, expect, it } from "vitest";
import { adminUser, authed, customerUser, phoneSignIn, signedInUser, submitOk, uniquePhone, type Json } from "../helpers";

async function phoneUserClaiming(email: string) {
  const phone = uniquePhone();
  const res = await phoneSignIn(phone, { device_id: "phone", email });
  expect(res.status).toBe(200);
  const body = await res.json<Json>();
  expect(body.created).toBe(true);
  return { phone, token: body.access_token as string };
}

/** The application as the admin list shows it, followed page by page until found. */
async function listed(adminToken: string, applicationId: string): Promise<Json> {
  let cursor: string | null = null;
  do {
    const res = await authed(adminToken, `/admin/kyc?status=PENDING&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    expect(res.status).toBe(200);
    const page = await res.json<Json>();
    const hit = (page.applications as Json[]).find((a) => a.id === applicationId);
    if (hit) return hit;
    cursor = page.next_cursor;
  } while (cursor);
  throw new Error(`application ${applicationId} not listed`);
}

async function detail(adminToken: string, applicationId: string): Promise<Json> {
  const res = await authed(adminToken, `/admin/kyc/${applicationId}`);
  expect(res.status).toBe(200);
  return (await res.json<Json>()).application as Json;
}

/** Names of the fields of `user` that hold `value`. */
const fieldsHolding = (user: Json, value: string) => Object.keys(user).filter((k) => user[k] === value);

describe("KYC applicant identity in the admin queue", () => {
  it("does not present an email typed at phone sign-up (someone else's) as the applicant's", async () => {
    const victim = await signedInUser();
    const attacker = await phoneUserClaiming(victim.email);
    const application = await submitOk(attacker.token);
    const admin = await adminUser();

    for (const view of [await listed(admin.token, application.id), await detail(admin.token, application.id)]) {
      expect(view.user.email).toBeNull();
      expect(view.user.phone).toBe(attacker.phone);
      expect(view.user.unverified_email).toBe(victim.email);
      expect(fieldsHolding(view.user, victim.email)).toEqual(["unverified_email"]);
    }
  });

  it("shows a verified email as the applicant's, and a phone number only once it is proved", async () => {
    const phone = uniquePhone();
    const applicant = await customerUser();
    // The number is stored unproved: typed at sign-up, never confirmed by SMS.
    const typed = await signedInUser({ phone });
    const typedToken = typed.tokens.access_token as string;
    const admin = await adminUser();

    const proved = await submitOk(applicant.token);
    const unproved = await submitOk(typedToken);
    for (const view of [await listed(admin.token, proved.id), await detail(admin.token, proved.id)]) {
      expect(view.user).toMatchObject({ email: applicant.email, phone: null, unverified_email: null });
    }
    for (const view of [await listed(admin.token, unproved.id), await detail(admin.token, unproved.id)]) {
      expect(view.user).toMatchObject({ email: typed.email, phone: null, unverified_email: null });
      expect(fieldsHolding(view.user, phone)).toEqual([]);
    }
  });
});
