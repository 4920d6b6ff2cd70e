// Invariant: phone and Google sign-ups take the role the person chose (CUSTOMER or PROVIDER) only
// when the sign-in creates the user; an existing user keeps their role whatever a later sign-in
// sends; ADMIN (or anything else) is refused with 400 before anything is created; concurrent first
// sign-ins asking for different roles make one user, with one role, that later sign-ins do not move.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  browserSignIn,
  googleCallback,
  googleCodeFor,
  googleIdToken,
  newGoogleAccount,
  startGoogle,
  type GoogleAccount,
} from "../helpers/google-fake";
import { adminUser, approve, authed, call, expectProblem, phoneSignIn, post, submitOk, uniquePhone, usersWithPhone, type Json } from "../helpers";

const dashboard = (token: string) => authed(token, "/provider/dashboard");

async function signedIn(res: Response): Promise<Json> {
  expect(res.status).toBe(200);
  return res.json<Json>();
}

function googleSignIn(account: GoogleAccount, extra: Json = {}) {
  return googleIdToken(account).then((id_token) => post("/auth/google", { id_token, device_id: "role-device", ...extra }));
}

/** The browser flow started with `role`, through the callback to the exchange. */
async function googleBrowserSignIn(account: GoogleAccount, role: string | null): Promise<Json> {
  const started = await startGoogle("role-browser", role === null ? "" : `&role=${role}`);
  const code = googleCodeFor(await googleIdToken(account, { nonce: started.nonce }));
  const res = await googleCallback({ code, state: started.state }, started.cookie);
  const exchange = /#code=([^&]+)$/.exec(res.headers.get("Location") ?? "")?.[1] ?? "";
  return signedIn(await post("/auth/google/exchange", { code: exchange, device_id: "role-browser" }));
}

/** A PROVIDER's KYC submitted and approved: the dashboard opens for them, and only for a PROVIDER. */
async function expectDashboardAfterKyc(token: string): Promise<void> {
  await expectProblem(await dashboard(token), 403, "kyc_required");
  const admin = await adminUser();
  const application = await submitOk(token);
  expect((await approve(admin.token, application.id)).status).toBe(200);
  const res = await dashboard(token);
  expect(res.status).toBe(200);
  expect((await res.json<Json>()).user).toMatchObject({ role: "PROVIDER", kyc_status: "APPROVED" });
}

async function roleInD1(userId: string): Promise<string> {
  return (await env.DB.prepare("SELECT role FROM users WHERE id = ?").bind(userId).first<{ role: string }>())!.role;
}

describe("role at sign-up by phone", () => {
  it("role PROVIDER creates a PROVIDER, whose dashboard opens after KYC approval", async () => {
    const body = await signedIn(await phoneSignIn(uniquePhone(), { role: "PROVIDER" }));
    expect(body).toMatchObject({ created: true, user: { role: "PROVIDER" } });
    await expectDashboardAfterKyc(body.access_token);
  });

  it("no role creates a CUSTOMER", async () => {
    const body = await signedIn(await phoneSignIn(uniquePhone()));
    expect(body.user.role).toBe("CUSTOMER");
  });

  it("an existing PROVIDER signing in with role CUSTOMER stays PROVIDER, and a CUSTOMER sending PROVIDER stays CUSTOMER", async () => {
    const providerPhone = uniquePhone();
    const provider = await signedIn(await phoneSignIn(providerPhone, { role: "PROVIDER" }));
    const again = await signedIn(await phoneSignIn(providerPhone, { role: "CUSTOMER" }));
    expect(again).toMatchObject({ created: false, user: { id: provider.user.id, role: "PROVIDER" } });
    expect(await roleInD1(provider.user.id)).toBe("PROVIDER");

    const customerPhone = uniquePhone();
    const customer = await signedIn(await phoneSignIn(customerPhone));
    const later = await signedIn(await phoneSignIn(customerPhone, { role: "PROVIDER" }));
    expect(later).toMatchObject({ created: false, user: { id: customer.user.id, role: "CUSTOMER" } });
    expect(await roleInD1(customer.user.id)).toBe("CUSTOMER");
  });

  it("role ADMIN (or any other value) is a 400 on `role`, and no user is created", async () => {
    for (const role of ["ADMIN", "admin", "provider", "", 1, null]) {
      const phone = uniquePhone();
      const body = await expectProblem(await phoneSignIn(phone, { role }), 400, "validation_error");
      expect(body.errors).toEqual([expect.objectContaining({ path: "role" })]);
      expect(await usersWithPhone(phone)).toBe(0);
    }
  });
});

describe("role at sign-up by Google", () => {
  it("ID token with role PROVIDER creates a PROVIDER, whose dashboard opens after KYC approval", async () => {
    const body = await signedIn(await googleSignIn(newGoogleAccount(), { role: "PROVIDER" }));
    expect(body).toMatchObject({ created: true, user: { role: "PROVIDER" } });
    await expectDashboardAfterKyc(body.access_token);
  });

  it("the browser flow carries the role from /start to the account the callback creates", async () => {
    const body = await googleBrowserSignIn(newGoogleAccount(), "PROVIDER");
    expect(body).toMatchObject({ created: true, user: { role: "PROVIDER" } });
    await expectDashboardAfterKyc(body.access_token);
    const plain = await googleBrowserSignIn(newGoogleAccount(), null);
    expect(plain).toMatchObject({ created: true, user: { role: "CUSTOMER" } });
  });

  it("an existing user keeps their role, whichever way they come back and whatever role they send", async () => {
    const providerAccount = newGoogleAccount();
    const provider = await signedIn(await googleSignIn(providerAccount, { role: "PROVIDER" }));
    expect((await signedIn(await googleSignIn(providerAccount, { role: "CUSTOMER" }))).user).toMatchObject({ id: provider.user.id, role: "PROVIDER" });
    expect((await googleBrowserSignIn(providerAccount, "CUSTOMER")).user).toMatchObject({ id: provider.user.id, role: "PROVIDER" });

    const customerAccount = newGoogleAccount();
    const customer = await signedIn(await googleSignIn(customerAccount));
    expect((await signedIn(await googleSignIn(customerAccount, { role: "PROVIDER" }))).user).toMatchObject({ id: customer.user.id, role: "CUSTOMER" });
    expect((await googleBrowserSignIn(customerAccount, "PROVIDER")).user).toMatchObject({ id: customer.user.id, role: "CUSTOMER" });
    expect(await roleInD1(customer.user.id)).toBe("CUSTOMER");
  });

  it("role ADMIN is a 400 on `role` for the ID token and at /start, and nothing is created", async () => {
    const account = newGoogleAccount();
    const body = await expectProblem(await googleSignIn(account, { role: "ADMIN" }), 400, "validation_error");
    expect(body.errors).toEqual([expect.objectContaining({ path: "role" })]);
    const start = await call("/auth/google/start?device_id=b&role=ADMIN", { redirect: "manual" });
    const startBody = await expectProblem(start, 400, "validation_error");
    expect(startBody.errors).toEqual([expect.objectContaining({ path: "role" })]);
    expect(start.headers.get("Set-Cookie")).toBeNull();
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM users WHERE email = ?").bind(account.email).first<{ n: number }>();
    expect(rows!.n).toBe(0);
  });

  it("concurrent first sign-ins asking for different roles make one user with one role, which stays", async () => {
    const account = newGoogleAccount();
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => googleSignIn(account, { role: i % 2 ? "PROVIDER" : "CUSTOMER" }).then(signedIn)),
    );
    const ids = new Set(answers.map((a) => a.user.id));
    expect(ids.size).toBe(1);
    expect(answers.filter((a) => a.created)).toHaveLength(1);
    const role = answers.find((a) => a.created)!.user.role;
    expect(answers.map((a) => a.user.role)).toEqual(answers.map(() => role));
    expect(await roleInD1([...ids][0]!)).toBe(role);
  });

  it("the exchange takes no role: one sent there is not a way to change the account", async () => {
    const account = newGoogleAccount();
    const { exchangeCode } = await browserSignIn(account, "role-exchange");
    const body = await signedIn(await post("/auth/google/exchange", { code: exchangeCode, device_id: "role-exchange", role: "PROVIDER" }));
    expect(body).toMatchObject({ created: true, user: { role: "CUSTOMER" } });
  });
});
