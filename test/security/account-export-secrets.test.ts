// Invariant: the account export holds nothing secret. For a user with every kind of data (password,
// sessions with rotated and revoked refresh tokens, a linked Google identity, TOTP with recovery codes
// one of them spent, an MFA challenge open, a passkey and a passkey ceremony open, a Google exchange code waiting, a password-reset link,
// KYC files), every secret value read back from D1 (password hash, TOTP ciphertext, recovery-code
// hashes, R2 keys), from the user's and the address's Durable Objects (token hashes, code HMACs, link
// hashes, challenge hashes) and from KV (link hashes, the Google state's verifier and nonce), and every
// secret the user was handed (refresh and access tokens, codes, the TOTP secret), is absent from the
// whole serialized document, and so are the service's own keys.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { browserSignIn, newGoogleAccount, startGoogle, googleIdToken } from "../helpers/google-fake";
import {
  adminUser,
  approve,
  authed,
  enrolTotp,
  lastCode,
  login,
  passkeyCreationOptions,
  registerPasskey,
  PASSWORD,
  pollUntil,
  post,
  rotate,
  signedInUser,
  submitOk,
  subjectStub,
  verifyMfa,
  waitForMessages,
  messagesTo,
  type Json,
} from "../helpers";

/** Every value of every row of every table of a SubjectStore, as strings. */
async function objectValues(name: string): Promise<Record<string, unknown>[]> {
  return runInDurableObject(subjectStub(name), (_instance, state) => {
    const sql = state.storage.sql;
    const tables = sql
      .exec<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'`)
      .toArray();
    return tables.flatMap((t) => sql.exec(`SELECT * FROM "${t.name}"`).toArray().map((row) => ({ table: t.name, ...row })));
  });
}

/** The columns of a SubjectStore that hold secrets (hashes and HMACs of tokens, codes and links). */
const OBJECT_SECRET_COLUMNS: Record<string, string[]> = {
  sessions: ["token_hash", "prev_hash", "access_jti"],
  spent_tokens: ["hash"],
  codes: ["code_hmac", "link_hash", "payload"],
  mfa_challenges: ["token_hash", "payload"],
  webauthn_challenges: ["challenge"],
};

/** The mfa_token of a sign-in answered with the second-factor challenge (TOTP and a passkey here). */
async function challengeOf(res: Response): Promise<string> {
  const body = await res.json<Json>();
  expect(body).toMatchObject({ mfa_required: true, methods: expect.arrayContaining(["totp", "recovery_code", "passkey"]) });
  return body.mfa_token as string;
}

async function kvSecrets(): Promise<string[]> {
  const secrets: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.KV.list(cursor ? { cursor } : {});
    for (const { name } of page.keys) {
      // A revoked session's id is no secret (the export lists the user's sessions by id).
      if (name.startsWith("revoked-sid:")) continue;
      secrets.push(name, name.slice(name.indexOf(":") + 1));
      const value = await env.KV.get(name);
      if (name.startsWith("google-state:") && value) {
        const record = JSON.parse(value) as Json;
        secrets.push(record.code_verifier, record.nonce);
      }
    }
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return secrets;
}

describe("the account export holds no secret", () => {
  it("no secret column, key or token value appears anywhere in the document", async () => {
    const handed: string[] = [PASSWORD];
    const { email, tokens } = await signedInUser({}, "export-phone");
    const userId = tokens.user.id as string;
    handed.push(tokens.access_token, tokens.refresh_token);

    // A second session, rotated (spent token, previous hash), and a third one logged out.
    const other = await login(email, PASSWORD, "export-laptop");
    handed.push(other.access_token, other.refresh_token, other.device_token);
    const rotated = await rotate(other.refresh_token, "export-laptop");
    handed.push(rotated.access_token, rotated.refresh_token);
    const third = await login(email, PASSWORD, "export-tablet");
    handed.push(third.refresh_token, third.access_token);
    expect((await post("/auth/logout", { refresh_token: third.refresh_token })).status).toBe(200);

    // Google: the same proved address links the identity; a browser flow leaves an exchange code waiting.
    const google = newGoogleAccount(email);
    const idToken = await googleIdToken(google);
    handed.push(idToken);
    expect((await post("/auth/google", { id_token: idToken, device_id: "export-google" })).status).toBe(200);
    const { exchangeCode } = await browserSignIn(google, "export-browser");
    handed.push(exchangeCode);
    const started = await startGoogle("export-browser-2");
    handed.push(started.state);

    // KYC with three files, decided by an admin.
    const application = await submitOk(tokens.access_token);
    const admin = await adminUser();
    expect((await approve(admin.token, application.id)).status).toBe(200);

    // A passkey, and a registration ceremony left open (its challenge waits in the user's object).
    await registerPasskey(tokens.access_token, "Phone");
    handed.push((await passkeyCreationOptions(tokens.access_token)).challenge);

    // TOTP with recovery codes; one code spent; a challenge left open.
    const { secret, recoveryCodes, confirmedWith } = await enrolTotp(tokens.access_token);
    handed.push(secret, ...recoveryCodes, confirmedWith);
    const spentWith = await challengeOf(await post("/auth/login", { email, password: PASSWORD, device_id: "export-mfa" }));
    const viaRecovery = await verifyMfa(spentWith, "recovery_code", recoveryCodes[0]!);
    expect(viaRecovery.status).toBe(200);
    const recovered = await viaRecovery.json<Json>();
    handed.push(spentWith, recovered.refresh_token, recovered.access_token);
    handed.push(await challengeOf(await post("/auth/login", { email, password: PASSWORD, device_id: "export-open" })));

    // A password-reset link and code, in KV and in the address's object.
    const before = messagesTo(email).length;
    expect((await post("/auth/password-reset/request", { email })).status).toBe(202);
    await waitForMessages(email, before + 1);
    handed.push(lastCode(email));
    const resetLink = /token=([A-Za-z0-9_-]+)/.exec(messagesTo(email).at(-1)!.text)?.[1];
    if (resetLink) handed.push(resetLink);

    // The audit rows are written after each answer.
    await pollUntil(
      () => env.DB.prepare("SELECT COUNT(*) AS n FROM audit_events WHERE subject_id = ? AND action = 'mfa.verified'").bind(userId).first<{ n: number }>(),
      (row) => (row?.n ?? 0) > 0,
    );

    const res = await authed(tokens.access_token, "/users/me/export");
    expect(res.status).toBe(200);
    const text = await res.text();
    const document = JSON.parse(text) as Json;
    // Each section is there, and not empty: the check below runs over a document that holds data.
    expect(document.identities).toHaveLength(1);
    expect(document.sessions.length).toBeGreaterThanOrEqual(5);
    expect(document.second_factors).toMatchObject({ totp: { enabled: true }, recovery_codes: { left: 9, used: 1 } });
    expect(document.kyc_applications[0].documents).toHaveLength(3);
    expect(document.audit_events.length).toBeGreaterThan(5);
    expect(document.profile.has_password).toBe(true);
    expect(document.passkeys).toHaveLength(1);

    // Secrets at rest in D1.
    const fromD1: string[] = [];
    const user = await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?").bind(userId).first<{ password_hash: string }>();
    fromD1.push(user!.password_hash, ...user!.password_hash.split("$").filter((part) => part.length >= 16));
    const totp = await env.DB.prepare("SELECT secret_ciphertext FROM mfa_totp WHERE user_id = ?").bind(userId).first<{ secret_ciphertext: string }>();
    fromD1.push(totp!.secret_ciphertext, ...totp!.secret_ciphertext.split(/[.:$]/).filter((part) => part.length >= 16));
    const codes = await env.DB.prepare("SELECT code_hash FROM mfa_recovery_codes WHERE user_id = ?").bind(userId).all<{ code_hash: string }>();
    expect(codes.results).toHaveLength(10);
    fromD1.push(...codes.results.map((c) => c.code_hash));
    const keys = await env.DB.prepare("SELECT r2_key FROM kyc_documents WHERE application_id = ?").bind(application.id).all<{ r2_key: string }>();
    expect(keys.results).toHaveLength(3);
    fromD1.push(...keys.results.map((k) => k.r2_key));

    // Secrets in the user's object and the address's object.
    const fromObjects: string[] = [];
    for (const name of [`user:${userId}`, `email:${email}`]) {
      for (const row of await objectValues(name)) {
        for (const column of OBJECT_SECRET_COLUMNS[row.table as string] ?? []) {
          const value = row[column];
          if (typeof value === "string" && value.length > 0) fromObjects.push(value);
        }
      }
    }
    expect(fromObjects.length).toBeGreaterThan(8);

    // The parts of each token a client holds, and the service's own keys.
    const tokenParts = handed.flatMap((t) => [t, ...t.split(".").filter((part) => part.length >= 16 && !/^[0-9a-f-]{36}$/.test(part))]);
    const config = loadConfig(env);
    const serviceKeys = [config.codeSecret, config.refreshSecret, ...config.mfaKeys.map((k) => k.key), ...config.signingKeys.map((k) => String(k.d))];

    const secrets = [...fromD1, ...fromObjects, ...(await kvSecrets()), ...tokenParts, ...serviceKeys].filter((s) => s && s.length >= 6);
    expect(secrets.length).toBeGreaterThan(40);
    const found = secrets.filter((s) => text.includes(s));
    expect(found).toEqual([]);
    // Hex digests could also hide in another case.
    const lower = text.toLowerCase();
    expect(secrets.filter((s) => /^[0-9a-f]{32,}$/i.test(s) && lower.includes(s.toLowerCase()))).toEqual([]);
  });
});
