import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../http/app-env";
import { AppError } from "../errors";
import { attachDoc } from "../http/openapi-meta";
import { currentUser } from "./require-role";

/**
 * After requireAuth: 403 `kyc_required` until the user's KYC application is approved. Reads the
 * status stored now, so the gate opens the moment an admin or the provider approves, with no new
 * login (a token claim would lag by up to the access-token lifetime).
 */
export const requireKycApproved = attachDoc(
  createMiddleware<AppEnv>(async (c, next) => {
    const user = await currentUser(c);
    if (user.kycStatus !== "APPROVED") throw new AppError("kyc_required");
    await next();
  }),
  { errors: ["kyc_required"] },
);
