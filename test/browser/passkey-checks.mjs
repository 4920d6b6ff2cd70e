// Passkeys in the console, with Chromium's virtual authenticator (DevTools protocol WebAuthn domain):
// registered on /account, used on /login with no username typed, as the second step on /mfa, and as
// the proof in the "Confirm it's you" prompt. Pages are opened at http://localhost:<port>: browsers
// refuse an IP address as an RP ID. Run by run.mjs.
import { join } from "node:path";
import { SCREENSHOTS, totpCode } from "./console-checks.mjs";

const PASSWORD = "correct horse battery staple";

/** `t`: { browser, check, assertEqual, waitFor, delivered, passkeyOrigin, reauthOrigin, reauthMaxAgeSeconds }. */
export async function passkeyChecks(t) {
  const { browser, check, assertEqual, waitFor } = t;
  const button = (scope, name) => scope.getByRole("button", { name, exact: true });
  const label = (scope, name) => scope.getByLabel(name, { exact: true });
  const unique = () => crypto.randomUUID().slice(0, 10);

  /** A page whose browser has a platform authenticator that holds passkeys and verifies the user. */
  async function pageWithAuthenticator() {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on("pageerror", (err) => console.log(`    page error: ${err.message}`));
    const cdp = await context.newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
    });
    const credentials = async () => (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
    return { page, credentials };
  }

  async function signUpAndVerify(page, origin, email) {
    await page.goto(`${origin}/signup`);
    await label(page, "Full name").fill("Passkey User");
    await label(page, "Email").fill(email);
    await label(page, "Password").fill(PASSWORD);
    await button(page, "Create account").click();
    await page.getByText("Check your email").waitFor();
    const mail = () => t.delivered.filter((m) => m.to === email && /verification code/i.test(m.text)).at(-1);
    await waitFor(`the verification email to ${email}`, () => Boolean(mail()));
    await label(page, "Verification code").fill(/\b(\d{6})\b/.exec(mail().text)[1]);
    await button(page, "Verify").click();
    await page.waitForURL(`${origin}/account`);
  }
  const passkeyList = (page) => page.getByRole("list", { name: "Passkeys" }).getByRole("listitem");
  async function addPasskey(page, name) {
    const before = await passkeyList(page).count();
    if (name) await label(page.locator("#passkeys-section > form"), "Passkey name").fill(name);
    await button(page, "Add a passkey").click();
    await waitFor("the new passkey in the list", async () => (await passkeyList(page).count()) === before + 1, 10_000);
  }
  async function signOut(page, origin) {
    await page.goto(`${origin}/account`);
    await button(page, "Sign out").click();
    await page.waitForURL((url) => url.pathname === "/login");
  }

  await check("console: a passkey added on /account (named, renamed) signs in on /login with no email typed", async () => {
    const origin = t.passkeyOrigin;
    const { page, credentials } = await pageWithAuthenticator();
    const email = `passkey-${unique()}@example.com`;
    await signUpAndVerify(page, origin, email);
    await page.getByText("No passkeys yet").waitFor();
    await addPasskey(page, "Laptop");
    const item = passkeyList(page).first();
    await item.getByText("Laptop", { exact: true }).waitFor();
    await item.getByText(/Created .* · last used never · (backed up|not backed up)/).waitFor();
    const stored = await credentials();
    assertEqual([stored.length, stored[0]?.isResidentCredential], [1, true], "discoverable credentials in the authenticator");

    await button(item, "Rename").click();
    await label(item, "Passkey name").fill("Work laptop");
    await button(item, "Save name").click();
    await passkeyList(page).first().getByText("Work laptop", { exact: true }).waitFor();

    await signOut(page, origin);
    await button(page, "Sign in with a passkey").click();
    await page.waitForURL(`${origin}/account`);
    await page.getByText("This device").waitFor();
    assertEqual(await page.getByText(email, { exact: false }).count() > 0, true, "the account signed in");
    await passkeyList(page).first().getByText(/last used (?!never)/).waitFor();
    await page.context().close();
  });

  await check("console: a user with an authenticator app and a passkey signs in by password and finishes /mfa with Use a passkey", async () => {
    const origin = t.passkeyOrigin;
    const { page } = await pageWithAuthenticator();
    const email = `passkey-mfa-${unique()}@example.com`;
    await signUpAndVerify(page, origin, email);
    await button(page, "Set up authenticator app").click();
    const secret = (await page.locator("code.secret").textContent()).trim();
    await label(page, "Authenticator code").fill(await totpCode(secret));
    await button(page, "Verify").click();
    await button(page, "Done").click();
    await page.getByText("Authenticator app: on").waitFor();
    await addPasskey(page);

    await signOut(page, origin);
    await page.goto(`${origin}/login`);
    await label(page, "Email").fill(email);
    await label(page, "Password").fill(PASSWORD);
    await button(page, "Sign in").click();
    await page.waitForURL((url) => url.pathname === "/mfa");
    assertEqual(await page.evaluate(() => localStorage.getItem("edge-auth.session")), null, "the session before the second step");
    await button(page.locator("#mfa-passkey"), "Use a passkey").click();
    await page.waitForURL(`${origin}/account`);
    await page.getByText("This device").waitFor();
    assertEqual(await page.evaluate(() => sessionStorage.length), 0, "the mfa_token kept after the second step");
    await page.context().close();
  });

  await check("console: an old sign-in gets 'Confirm it's you' (password, then passkey) and the refused action then succeeds", async () => {
    const origin = t.reauthOrigin;
    const wait = (page) => page.waitForTimeout((t.reauthMaxAgeSeconds + 1) * 1000);
    const { page, credentials } = await pageWithAuthenticator();
    const email = `reauth-${unique()}@example.com`;
    await signUpAndVerify(page, origin, email);
    await page.getByText("No passkeys yet").waitFor();
    await wait(page);

    // Adding a passkey needs a recent sign-in: the prompt, the password, then the passkey is added.
    await label(page.locator("#passkeys-section > form"), "Passkey name").fill("Phone");
    await button(page, "Add a passkey").click();
    const prompt = page.getByRole("dialog", { name: "Confirm it's you" });
    await prompt.waitFor();
    assertEqual(await button(prompt, "Use a passkey").count(), 0, "a passkey offered before the user has one");
    await page.screenshot({ path: join(SCREENSHOTS, "reauth-prompt.png") });
    await label(prompt, "Password").fill(PASSWORD);
    await button(prompt, "Confirm").click();
    await prompt.waitFor({ state: "detached" });
    await passkeyList(page).first().getByText("Phone", { exact: true }).waitFor();
    assertEqual((await credentials()).length, 1, "credentials in the authenticator");

    // Deleting it, later again: this time the passkey itself is the proof.
    await wait(page);
    const item = passkeyList(page).first();
    await button(item, "Delete").click();
    await button(item, "Yes, delete").click();
    await prompt.waitFor();
    await button(prompt, "Use a passkey").click();
    await prompt.waitFor({ state: "detached" });
    await page.getByText("No passkeys yet").waitFor();
    await page.context().close();
  });
}
