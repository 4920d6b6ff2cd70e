// The web console in headless Chromium, found by its labels and button texts as a person finds it
// (api.md "Web console"). Run by run.mjs, which serves the Worker (console included) at `origin`.
import { mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Secret, TOTP } from "otpauth";

export const SCREENSHOTS = new URL("screenshots/", import.meta.url).pathname;
const PASSWORD = "correct horse battery staple";
const NEW_PASSWORD = "a brand new passphrase here";

// A 1×1 PNG: KYC checks a file's type by its bytes.
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");

// The last TOTP step used per secret: the service refuses a step at or before the last one it
// accepted, and accepts a code of the step after now's (RFC 6238 ±1 step), so a second code within
// one 30 s step is the next step's, and a third waits for the clock.
const usedSteps = new Map();
export async function totpCode(secret) {
  const now = () => Math.floor(Date.now() / 30_000);
  const step = Math.max(now(), (usedSteps.get(secret) ?? -Infinity) + 1);
  while (step > now() + 1) await new Promise((resolve) => setTimeout(resolve, 500));
  usedSteps.set(secret, step);
  return new TOTP({ secret: Secret.fromBase32(secret), algorithm: "SHA1", digits: 6, period: 30 }).generate({ timestamp: step * 30_000 });
}

/** `t`: { browser, origin, check, assertEqual, waitFor, delivered, refreshes(), accessTtlSeconds, db (the Worker's D1) }. */
export async function consoleChecks(t) {
  const { browser, origin, check, assertEqual, waitFor } = t;
  const newPage = async (viewport) => {
    const context = await browser.newContext(viewport ? { viewport } : {});
    const page = await context.newPage();
    page.on("pageerror", (err) => console.log(`    page error: ${err.message}`));
    return page;
  };
  const button = (page, name) => page.getByRole("button", { name, exact: true });
  const label = (page, name) => page.getByLabel(name, { exact: true });
  const mailTo = async (email, pattern) => {
    await waitFor(`an email to ${email} matching ${pattern}`, () => t.delivered.some((m) => m.to === email && pattern.test(m.text)));
    return t.delivered.filter((m) => m.to === email && pattern.test(m.text)).at(-1).text;
  };
  const codeIn = (text) => /\b(\d{6})\b/.exec(text)[1];
  const linkIn = (text, path) => new RegExp(`https?://\\S+${path}\\?token=[^\\s"]+`).exec(text)[0];
  const unique = () => crypto.randomUUID().slice(0, 10);

  async function signUp(page, email, { name = "Console User", role } = {}) {
    await page.goto(`${origin}/signup`);
    await label(page, "Full name").fill(name);
    if (role) await page.getByLabel(role, { exact: true }).check();
    await label(page, "Email").fill(email);
    await label(page, "Password").fill(PASSWORD);
    await button(page, "Create account").click();
    await page.getByText("Check your email").waitFor();
  }

  const signedUp = `console-${unique()}@example.com`;
  await check("console: sign up, the code from the delivery log, verify, land on /account", async () => {
    const page = await newPage();
    await signUp(page, signedUp);
    await label(page, "Verification code").fill(codeIn(await mailTo(signedUp, /verification code/i)));
    await button(page, "Verify").click();
    await page.waitForURL(`${origin}/account`);
    await page.getByText("This device").waitFor();
    assertEqual(await page.getByRole("list", { name: "Sessions" }).getByRole("listitem").count(), 1, "sessions listed");
    await page.context().close();
  });

  await check("console: Download my data on /account saves one JSON file of the account, with no secret in it", async () => {
    const page = await newPage();
    await signIn(page, signedUp, PASSWORD);
    const [download] = await Promise.all([page.waitForEvent("download"), button(page, "Download my data").click()]);
    assertEqual(download.suggestedFilename(), "account-export.json", "file name");
    const text = await readFile(await download.path(), "utf8");
    const data = JSON.parse(text);
    assertEqual(data.profile.email, signedUp, "the export's profile");
    assertEqual(/password_hash|refresh_token|\$argon2/.test(text), false, "no secret in the file");
    await page.getByText("Saved account-export.json").waitFor();
    await page.context().close();
  });

  await check("console: the emailed link, opened in the browser, verifies with the password and shows the login page", async () => {
    const page = await newPage();
    const email = `link-${unique()}@example.com`;
    await signUp(page, email);
    const link = linkIn(await mailTo(email, /verify-email\?token=/), "/verify-email");
    assertEqual(link.startsWith(`${origin}/verify-email?token=`), true, `the link lands on the console (${link})`);
    await page.goto(link);
    await label(page, "Password").fill(PASSWORD);
    await button(page, "Verify").click();
    await page.waitForURL((url) => url.pathname === "/login");
    await page.getByText("Email verified").waitFor();
    await button(page, "Sign in").waitFor();
    await page.context().close();
  });

  await check("console: phone sign-in with the development code; the resend button counts down", async () => {
    const page = await newPage();
    await page.goto(`${origin}/login`);
    await label(page, "Phone number").fill(`017${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}`);
    await button(page, "Send code").click();
    const status = await page.getByText(/development code: \d{6}/).textContent();
    const resend = page.getByRole("button", { name: /^Send code again/ });
    const first = Number(/\((\d+)s\)/.exec(await resend.textContent())?.[1]);
    assertEqual(first > 0 && (await resend.isDisabled()), true, "the resend button waits");
    await page.waitForTimeout(2100);
    const later = Number(/\((\d+)s\)/.exec(await resend.textContent())?.[1]);
    assertEqual(later < first, true, `the countdown moves (${first} → ${later})`);
    await label(page, "Verification code").fill(/development code: (\d{6})/.exec(status)[1]);
    await button(page, "Verify").click();
    await page.waitForURL(`${origin}/account`);
    await page.getByText("This device").waitFor();
    await page.context().close();
  });

  await check("console: forgot password, the reset page from the emailed link, sign in with the new password", async () => {
    const page = await newPage();
    await page.goto(`${origin}/forgot-password`);
    await label(page, "Email").fill(signedUp);
    await button(page, "Send reset link").click();
    await page.getByText("Check your email").waitFor();
    await page.goto(linkIn(await mailTo(signedUp, /reset-password\?token=/), "/reset-password"));
    await label(page, "New password").fill(NEW_PASSWORD);
    await button(page, "Set password").click();
    await page.waitForURL((url) => url.pathname === "/login");
    await label(page, "Email").fill(signedUp);
    await label(page, "Password").fill(NEW_PASSWORD);
    await button(page, "Sign in").click();
    await page.waitForURL(`${origin}/account`);
    await page.context().close();
  });

  await check("console: sign in with a code sent by email (the option opened on /login)", async () => {
    const page = await newPage();
    await emailCodeSignIn(page, signedUp, "/account");
    await page.getByText("This device").waitFor();
    await page.context().close();
  });

  await check("console: two tabs on /account survive an access-token expiry with one refresh; Sign out everywhere signs both out", async () => {
    const context = await browser.newContext();
    const [one, two] = [await context.newPage(), await context.newPage()];
    await one.goto(`${origin}/login`);
    await label(one, "Email").fill(signedUp);
    await label(one, "Password").fill(NEW_PASSWORD);
    await button(one, "Sign in").click();
    await one.waitForURL(`${origin}/account`);
    await one.getByText("This device").waitFor();
    await two.goto(`${origin}/account`);
    await two.getByText("This device").waitFor();
    await one.waitForTimeout((t.accessTtlSeconds + 1) * 1000);
    const before = t.refreshes();
    await Promise.all([one.reload(), two.reload()]);
    await Promise.all([one.getByText("This device").waitFor(), two.getByText("This device").waitFor()]);
    assertEqual(t.refreshes() - before, 1, "refresh requests for both tabs");
    await button(one, "Sign out everywhere").click();
    await Promise.all([one.waitForURL((url) => url.pathname === "/login"), two.waitForURL((url) => url.pathname === "/login")]);
    await context.close();
  });

  async function signUpAndVerify(page, email, options) {
    await signUp(page, email, options);
    await label(page, "Verification code").fill(codeIn(await mailTo(email, /verification code/i)));
    await button(page, "Verify").click();
    await page.waitForURL(`${origin}/account`);
  }
  /** The email-code option on /login: opened, the address, the code from the delivery log. */
  async function emailCodeSignIn(page, email, landing) {
    await page.goto(`${origin}/login`);
    const section = page.getByRole("region", { name: "Email code" });
    await section.getByRole("button", { name: "Email me a code", exact: true }).click();
    await section.getByLabel("Email", { exact: true }).fill(email);
    await section.getByRole("button", { name: "Send code", exact: true }).click();
    await section.getByLabel("Verification code", { exact: true }).fill(codeIn(await mailTo(email, /sign-in code/i)));
    await section.getByRole("button", { name: "Verify", exact: true }).click();
    await page.waitForURL((url) => url.pathname === landing);
  }
  async function signIn(page, email, password, landing = "/account", login = "/login") {
    await page.goto(`${origin}${login}`);
    await label(page, "Email").fill(email);
    await label(page, "Password").fill(password);
    await button(page, "Sign in").click();
    await page.waitForURL((url) => url.pathname === landing);
  }
  /** Security on /account: the QR image shown, the secret read from the page, the first code; returns the recovery codes. */
  async function enrolTotp(page) {
    await button(page, "Set up authenticator app").click();
    const qr = page.getByRole("img", { name: "QR code for your authenticator app" });
    await waitFor("the QR code to load", () => qr.evaluate((img) => img.complete && img.naturalWidth > 0 && img.src.startsWith("blob:")));
    const secret = (await page.locator("code.secret").textContent()).trim();
    await label(page, "Authenticator code").fill(await totpCode(secret));
    await button(page, "Verify").click();
    const codes = page.getByRole("list", { name: "Recovery codes" }).getByRole("listitem");
    await codes.first().waitFor();
    assertEqual(await codes.count(), 10, "recovery codes shown");
    const recoveryCodes = (await codes.allTextContents()).map((c) => c.trim());
    await button(page, "Done").click();
    await page.getByText("Authenticator app: on").waitFor();
    return { secret, recoveryCodes };
  }
  async function signOut(page) {
    await page.goto(`${origin}/account`);
    await button(page, "Sign out").click();
    await page.waitForURL((url) => url.pathname === "/login");
  }

  const mfaUser = `mfa-${unique()}@example.com`;
  let mfaUserTotp;
  await check("console: a user enrols an authenticator app on /account (QR shown, recovery codes shown), signs out, signs in and passes /mfa with a code", async () => {
    const page = await newPage();
    await signUpAndVerify(page, mfaUser);
    await page.getByText("Authenticator app: off").waitFor();
    mfaUserTotp = await enrolTotp(page);
    await signOut(page);
    await signIn(page, mfaUser, PASSWORD, "/mfa");
    // The password alone opened no session: the SDK stored nothing (key from sdk/src/storage.ts).
    assertEqual(await page.evaluate(() => localStorage.getItem("edge-auth.session")), null, "the session before the second step");
    await label(page, "Authenticator code").fill(await totpCode(mfaUserTotp.secret));
    await button(page, "Verify").click();
    await page.waitForURL(`${origin}/account`);
    await page.getByText("This device").waitFor();
    assertEqual(await page.evaluate(() => sessionStorage.length), 0, "the mfa_token kept after the second step");
    await page.context().close();
  });

  await check("console: /mfa with a recovery code: a wrong one is refused with the problem's detail, the right one goes back to the page that asked for sign-in", async () => {
    const page = await newPage();
    await page.goto(`${origin}/kyc`);
    await page.waitForURL(`${origin}/login?next=%2Fkyc`);
    await signIn(page, mfaUser, PASSWORD, "/mfa", "/login?next=%2Fkyc");
    await button(page, "Use a recovery code instead").click();
    await label(page, "Recovery code").fill("not-a-recovery-code");
    await button(page, "Verify").click();
    await waitFor("the refusal shown in the form", async () => ((await page.locator("form [role=alert]").textContent()) ?? "").trim().length > 0);
    await label(page, "Recovery code").fill(mfaUserTotp.recoveryCodes[0]);
    await button(page, "Verify").click();
    await page.waitForURL((url) => url.pathname === "/kyc");
    await page.goto(`${origin}/account#security`);
    await page.getByText("Authenticator app: on · 9 recovery codes left").waitFor();
    await page.context().close();
  });

  await check("console: an emailed code signs an account with an authenticator app in through /mfa, like a password", async () => {
    const page = await newPage();
    await emailCodeSignIn(page, mfaUser, "/mfa");
    assertEqual(await page.evaluate(() => localStorage.getItem("edge-auth.session")), null, "the session before the second step");
    await label(page, "Authenticator code").fill(await totpCode(mfaUserTotp.secret));
    await button(page, "Verify").click();
    await page.waitForURL(`${origin}/account`);
    await page.getByText("This device").waitFor();
    await page.context().close();
  });

  await check("console: /mfa after five wrong codes says the step is spent and offers to sign in again; the mfa_token is dropped", async () => {
    const page = await newPage();
    await signIn(page, mfaUser, PASSWORD, "/mfa");
    const totp = new TOTP({ secret: Secret.fromBase32(mfaUserTotp.secret) });
    const valid = [-1, 0, 1, 2].map((d) => totp.generate({ timestamp: Date.now() + d * 30_000 }));
    const wrong = ["000000", "111111", "222222", "333333", "444444", "555555"].find((c) => !valid.includes(c));
    const again = page.getByRole("link", { name: "Sign in again" });
    for (let tries = 0; tries < 6 && !(await page.getByRole("alert").filter({ hasText: "Sign in again" }).count()); tries++) {
      await label(page, "Authenticator code").fill(wrong);
      await button(page, "Verify").click();
      // The button is disabled while the request runs; the burned step then has no form at all.
      await waitFor("the answer", async () => (await page.locator("form button:disabled").count()) === 0);
    }
    await page.getByRole("alert").filter({ hasText: "Sign in again" }).waitFor();
    assertEqual(await label(page, "Authenticator code").count(), 0, "the code field after the token was burned");
    assertEqual(await page.evaluate(() => sessionStorage.length), 0, "the mfa_token kept after it was burned");
    await page.reload();
    await page.getByText("expired or was already used").waitFor();
    await again.click();
    await page.waitForURL((url) => url.pathname === "/login");
    await page.context().close();
  });

  const admin = `admin-${unique()}@example.com`;
  let adminTotp;
  await check("console: a provider submits KYC with a PNG; an admin sees the image on /admin/kyc/{id} and approves; /provider opens without a new login", async () => {
    const provider = await newPage();
    const providerEmail = `provider-${unique()}@example.com`;
    const providerName = `Provider ${unique()}`;
    await signUpAndVerify(provider, providerEmail, { name: providerName, role: "Provider" });
    await provider.goto(`${origin}/provider`);
    await provider.getByText("not verified yet").waitFor();
    await provider.goto(`${origin}/admin/kyc`);
    await provider.getByRole("heading", { name: "Not allowed" }).waitFor();
    await provider.goto(`${origin}/kyc`);
    await label(provider, "Document type").selectOption("passport");
    await label(provider, "Front").setInputFiles({ name: "passport.png", mimeType: "image/png", buffer: PNG });
    await waitFor("the preview of the chosen file", () => provider.locator("img.preview").first().evaluate((img) => !img.hidden && img.naturalWidth === 1));
    await button(provider, "Submit").click();
    await provider.getByText("PENDING").waitFor();

    // The first admin, made as `npm run set-role` does: the role changed in D1.
    const adminPage = await newPage();
    await signUpAndVerify(adminPage, admin, { name: "Console Admin" });
    await t.db.prepare("UPDATE users SET role = 'ADMIN' WHERE email = ?").bind(admin).run();
    await signIn(adminPage, admin, PASSWORD);
    // MFA_REQUIRED_ROLES: the admin pages send an admin without a second factor to enrol one.
    await adminPage.goto(`${origin}/admin/kyc`);
    await adminPage.getByRole("heading", { name: "Set up a second factor" }).waitFor();
    await adminPage.getByRole("link", { name: "Set up a second factor" }).click();
    await adminPage.waitForURL(`${origin}/account#security`);
    adminTotp = await enrolTotp(adminPage);
    await signOut(adminPage);
    await signIn(adminPage, admin, PASSWORD, "/mfa");
    await label(adminPage, "Authenticator code").fill(await totpCode(adminTotp.secret));
    await button(adminPage, "Verify").click();
    await adminPage.waitForURL(`${origin}/account`);
    await adminPage.goto(`${origin}/admin/kyc`);
    await adminPage.getByRole("link", { name: providerName }).click();
    await adminPage.waitForURL(/\/admin\/kyc\/[0-9a-f-]{36}$/);
    const image = adminPage.locator("img.doc");
    await image.waitFor({ state: "attached" });
    await waitFor("the document image to load", () => image.evaluate((img) => img.complete && img.naturalWidth === 1));
    await button(adminPage, "Approve").click();
    await adminPage.getByText("status APPROVED").waitFor();
    await adminPage.context().close();

    await provider.goto(`${origin}/provider`);
    await provider.getByRole("heading", { name: "Provider dashboard" }).waitFor();
    await provider.locator("p.ok").waitFor();
    await provider.context().close();
  });

  await check("console: every page at 360 px wide has no horizontal scroll (screenshots in test/browser/screenshots/)", async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const page = await newPage({ width: 360, height: 740 });
    const signedIn = [
      ["account", "/account"],
      ["kyc", "/kyc"],
      ["provider", "/provider"],
      ["admin-kyc", "/admin/kyc?status=APPROVED"],
      ["admin-users", "/admin/users"],
      ["admin-audit", "/admin/audit"],
    ];
    const open = [
      ["signup", "/signup"],
      ["verify-email", `/verify-email?email=${encodeURIComponent(signedUp)}`],
      ["verify-email-link", "/verify-email?token=not-a-real-token"],
      ["forgot-password", "/forgot-password"],
      ["reset-password", "/reset-password?token=not-a-real-token"],
      ["auth-callback", "/auth/callback#error=access_denied"],
      ["login", "/login"],
    ];
    const overflowing = [];
    const shoot = async (name, path) => {
      if (path) await page.goto(`${origin}${path}`);
      await page.locator("main h1").waitFor();
      await page.waitForLoadState("networkidle");
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      if (width > 360) overflowing.push(`${name}: ${width}px`);
      await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
    };
    for (const [name, path] of open) await shoot(name, path);
    // The admin sees every page (a customer would see "Not allowed" on the admin ones), after /mfa.
    await signIn(page, admin, PASSWORD, "/mfa");
    await shoot("mfa", null);
    await button(page, "Use a recovery code instead").click();
    await label(page, "Recovery code").fill(adminTotp.recoveryCodes[0]);
    await button(page, "Verify").click();
    await page.waitForURL(`${origin}/account`);
    for (const [name, path] of signedIn) await shoot(name, path);
    await page.goto(`${origin}/admin/kyc?status=APPROVED`);
    await page.locator("ul.list a").first().click();
    await page.locator("img.doc").first().waitFor({ state: "attached" });
    await shoot("admin-kyc-application", new URL(page.url()).pathname);
    assertEqual(overflowing, [], "pages wider than the screen");
    await page.context().close();
  });

  await check("console: the admin makes new recovery codes and turns the app off on /account; the admin pages then ask for a second factor again", async () => {
    const page = await newPage();
    await signIn(page, admin, PASSWORD, "/mfa");
    await button(page, "Use a recovery code instead").click();
    await label(page, "Recovery code").fill(adminTotp.recoveryCodes[1]);
    await button(page, "Verify").click();
    await page.waitForURL(`${origin}/account`);
    await button(page, "New recovery codes").click();
    const codes = page.getByRole("list", { name: "Recovery codes" }).getByRole("listitem");
    await codes.first().waitFor();
    assertEqual(await codes.count(), 10, "new recovery codes shown");
    const fresh = (await codes.allTextContents()).map((c) => c.trim());
    assertEqual(fresh.some((c) => adminTotp.recoveryCodes.includes(c)), false, "an old code among the new ones");
    await button(page, "Done").click();
    await page.getByText("Authenticator app: on · 10 recovery codes left").waitFor();
    await button(page, "Turn off").click();
    await page.getByText("Authenticator app: off").waitFor();
    await page.goto(`${origin}/admin/users`);
    await page.getByRole("heading", { name: "Set up a second factor" }).waitFor();
    await page.context().close();
  });
}
