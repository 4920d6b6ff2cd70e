import { auth } from "./auth";
import { accountPage } from "./pages/account";
import { adminAuditPage } from "./pages/admin-audit";
import { adminKycApplicationPage, adminKycPage } from "./pages/admin-kyc";
import { adminUsersPage } from "./pages/admin-users";
import { authCallbackPage } from "./pages/auth-callback";
import { kycPage, providerPage } from "./pages/kyc";
import { forgotPasswordPage, resetPasswordPage } from "./pages/password-reset";
import { loginPage } from "./pages/login";
import { mfaPage } from "./pages/mfa";
import { signupPage } from "./pages/signup";
import { verifyEmailPage } from "./pages/verify-email";
import { navigate, route, startRouter } from "./router";

// Every console page, by path. The Worker serves index.html for these same paths (src/routes/console.ts).
route("/", async () => navigate((await auth.getSession()) ? "/account" : "/login", true));
route("/signup", signupPage);
route("/verify-email", verifyEmailPage);
route("/login", loginPage);
route("/mfa", mfaPage);
route("/account", accountPage);
route("/forgot-password", forgotPasswordPage);
route("/reset-password", resetPasswordPage);
route("/auth/callback", authCallbackPage);
route("/kyc", kycPage);
route("/provider", providerPage);
route("/admin/kyc", adminKycPage);
route("/admin/kyc/:id", adminKycApplicationPage);
route("/admin/users", adminUsersPage);
route("/admin/audit", adminAuditPage);

startRouter();
