// Invariant: nothing stored can be read back as a second factor: D1 holds the TOTP secret only
// AES-GCM encrypted (with its key id), and recovery codes only as hashes; the user's object holds
// neither; a ciphertext moved to another user's row does not decrypt (the user id is bound in).
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { openSecret } from "../../src/domain/mfa-secrets";
import { normalizeRecoveryCode } from "../../src/domain/recovery-codes";
import { enrolTotp, signedInUser } from "../helpers";

describe("second factors at rest", () => {
  it("D1 holds the secret encrypted and the recovery codes hashed; the object holds neither", async () => {
    const { tokens } = await signedInUser();
    const userId = tokens.user.id as string;
    const { secret, recoveryCodes } = await enrolTotp(tokens.access_token as string);

    const row = await env.DB.prepare("SELECT * FROM mfa_totp WHERE user_id = ?").bind(userId).first<Record<string, string>>();
    expect(row!.key_id).toBe(loadConfig(env).mfaKeys[0]!.id);
    expect(row!.secret_ciphertext).not.toContain(secret);
    expect(JSON.stringify(row)).not.toContain(secret.slice(0, 12));
    const config = loadConfig(env);
    const sealed = { ciphertext: row!.secret_ciphertext!, keyId: row!.key_id! };
    expect(await openSecret(config, userId, sealed)).toBe(secret);
    expect(await openSecret(config, crypto.randomUUID(), sealed)).toBeNull();

    const codes = await env.DB.prepare("SELECT * FROM mfa_recovery_codes WHERE user_id = ?").bind(userId).all<Record<string, string>>();
    expect(codes.results).toHaveLength(10);
    const stored = JSON.stringify(codes.results);
    for (const code of recoveryCodes) {
      expect(stored).not.toContain(code);
      expect(stored).not.toContain(normalizeRecoveryCode(code)!);
    }

    const stub = env.SUBJECTS.get(env.SUBJECTS.idFromName(`user:${userId}`));
    const dump = await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      const tables = sql.exec<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'`).toArray();
      return JSON.stringify(tables.map((t) => sql.exec(`SELECT * FROM "${t.name}"`).toArray()));
    });
    expect(dump).not.toContain(secret);
    for (const code of recoveryCodes) expect(dump).not.toContain(normalizeRecoveryCode(code)!);
  });
});
