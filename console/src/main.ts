import { auth } from "./auth";
import { accountPage } from "./pages/account";
import { forgotPasswordPage, resetPasswordPage } from "./pages/password-reset";
import { loginPage } from "./pages/login";
import { signupPage } from "./pages/signup";
import { verifyEmailPage } from "./pages/verify-email";
import { navigate, route, startRouter } from "./router";

// Every console page, by path. The Worker serves index.html for these same paths (src/routes/console.ts).
route("/", async () => navigate((await auth.getSession()) ? "/account" : "/login", true));
route("/signup", signupPage);
route("/verify-email", verifyEmailPage);
route("/login", loginPage);
route("/account", accountPage);
route("/forgot-password", forgotPasswordPage);
route("/reset-password", resetPasswordPage);

startRouter();
