// Invariant: a route gated on KYC (GET /provider/dashboard: role PROVIDER and KYC approved) reads
// role and KYC status as stored now: 403 kyc_required until an approval, then 200 at once with the
// same access token; a CUSTOMER is refused whatever their KYC; a rejection keeps the gate shut.
import { describe, expect, it } from "vitest";
import { adminUser, approve, authed, call, customerUser, expectProblem, providerUser, reject, submitOk, type Json } from "../helpers";

const dashboard = (token: string) => authed(token, "/provider/dashboard");

describe("the KYC gate", () => {
  it("a PROVIDER gets 403 kyc_required before approval, and 200 right after with the same token", async () => {
    const admin = await adminUser();
    const provider = await providerUser();
    await expectProblem(await dashboard(provider.token), 403, "kyc_required");
    const application = await submitOk(provider.token);
    await expectProblem(await dashboard(provider.token), 403, "kyc_required");

    expect((await approve(admin.token, application.id)).status).toBe(200);

    const res = await dashboard(provider.token); // the access token from before the approval
    expect(res.status).toBe(200);
    const body = await res.json<Json>();
    expect(body.message).toEqual(expect.any(String));
    expect(body.user).toMatchObject({ id: provider.id, role: "PROVIDER", kyc_status: "APPROVED" });
    expect(body.user.password_hash).toBeUndefined();
  });

  it("a CUSTOMER with approved KYC gets 403 forbidden", async () => {
    const admin = await adminUser();
    const customer = await customerUser();
    const application = await submitOk(customer.token);
    expect((await approve(admin.token, application.id)).status).toBe(200);
    await expectProblem(await dashboard(customer.token), 403, "forbidden");
  });

  it("after a rejection the gate stays closed, also while a new application is pending", async () => {
    const admin = await adminUser();
    const provider = await providerUser();
    const first = await submitOk(provider.token);
    expect((await reject(admin.token, first.id, "Blurred photo")).status).toBe(200);
    await expectProblem(await dashboard(provider.token), 403, "kyc_required");
    const second = await submitOk(provider.token);
    await expectProblem(await dashboard(provider.token), 403, "kyc_required");
    expect((await approve(admin.token, second.id)).status).toBe(200);
    expect((await dashboard(provider.token)).status).toBe(200);
  });

  it("an ADMIN is not a provider, and anonymous callers get 401", async () => {
    const admin = await adminUser();
    await expectProblem(await dashboard(admin.token), 403, "forbidden");
    await expectProblem(await call("/provider/dashboard"), 401, "invalid_access_token");
  });
});
