// How much D1 storage a user takes: applies migrations/ to a SQLite file (D1 is SQLite; its size is
// the file's pages) and fills it with users shaped like real ones, table by table, reporting bytes
// per row (indexes included) and users per GB for the profile below. Run: `npx node bench/d1-size.mjs`
// (the project's Node 24, for node:sqlite). `D1_SIZE_USERS` (20000) sets the sample.
// @ts-nocheck plain Node script
import { readdirSync, readFileSync, rmSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

const USERS = Number(process.env.D1_SIZE_USERS ?? 20000);
// The profile: what one user leaves in D1 (docs/operations.md, "Which plan, and how far one database goes").
const PROFILE = {
  sessionsPerUser: 24, // one row per sign-in on a device, kept after it ends: two devices signing in monthly, one year
  auditPerUser: 24, // rows kept: 4 a month (sign-ins, a failure, a sign-out) for AUDIT_RETENTION_DAYS = 180
  googleShare: 0.3, // linked Google identity
  passkeyShare: 0.3, // one passkey
  totpShare: 0.1, // authenticator app + 10 recovery codes
  kycShare: 0.2, // one KYC application with three documents
};

const dir = mkdtempSync(join(tmpdir(), "d1-size-"));
const file = join(dir, "d1.sqlite");
const db = new DatabaseSync(file);
db.exec("PRAGMA page_size = 4096; PRAGMA journal_mode = DELETE;");
const migrations = new URL("../migrations/", import.meta.url);
for (const name of readdirSync(migrations).filter((f) => f.endsWith(".sql")).sort()) {
  db.exec(readFileSync(new URL(name, migrations), "utf8"));
}
const pages = () => db.prepare("PRAGMA page_count").get().page_count * 4096;

const uuid = () => crypto.randomUUID();
const b64 = (bytes) => Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("base64url");
const hex = (bytes) => Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("hex");
const now = Date.now();
const UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";
const ip = (i) => (i % 3 === 0 ? `2001:db8:${(i % 65535).toString(16)}:1::${(i % 999).toString(16)}` : `203.0.${i % 256}.${(i * 7) % 256}`);

const users = [];
const steps = [];
function step(table, rows, fill) {
  const before = pages();
  db.exec("BEGIN");
  fill();
  db.exec("COMMIT");
  steps.push({ table, rows, bytes: pages() - before });
}

step("users", USERS, () => {
  const insert = db.prepare(
    `INSERT INTO users (id, email, username, username_key, phone, full_name, first_name, last_name, role, password_hash,
       is_email_verified, is_phone_verified, kyc_status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'CUSTOMER', ?, 1, ?, 'NOT_SUBMITTED', ?, ?)`,
  );
  for (let i = 0; i < USERS; i++) {
    const id = uuid();
    users.push(id);
    const name = `user${i}x${hex(2)}`;
    const phone = i % 2 === 0 ? `+8801${String(700000000 + i).padStart(9, "0")}` : null;
    const hash = `$argon2id$v=19$m=19456,t=2,p=1$${b64(16)}$${b64(32)}`;
    insert.run(id, `${name}@example.com`, name, name, phone, "Firstname Lastname", "Firstname", "Lastname", hash, phone ? 1 : 0, now - i, now - i);
  }
});

step("sessions", USERS * PROFILE.sessionsPerUser, () => {
  const insert = db.prepare(
    `INSERT INTO sessions (id, user_id, device_id, device_name, user_agent, ip, created_at, last_used_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (let s = 0; s < PROFILE.sessionsPerUser; s++) {
    users.forEach((u, i) => insert.run(uuid(), u, uuid(), "iPhone 16", UA, ip(i + s), now, now, now + 30 * 86_400_000, s % 2 ? now : null));
  }
});

step("audit_events", USERS * PROFILE.auditPerUser, () => {
  const insert = db.prepare(
    `INSERT INTO audit_events (id, at, action, actor_id, subject_id, ip, user_agent, request_id, details) VALUES (?, ?, 'login.succeeded', ?, ?, ?, ?, ?, ?)`,
  );
  for (let a = 0; a < PROFILE.auditPerUser; a++) {
    users.forEach((u, i) => {
      const details = JSON.stringify({ method: "password", session_id: uuid(), device_id: uuid() });
      // subject_id defaults to the actor (src/domain/audit.ts).
      insert.run(uuid(), now + a * 1000 + i, u, u, ip(i + a), UA, `8f${hex(7)}-AMS`, details);
    });
  }
});

const some = (share) => users.filter((_, i) => (i % 100) < share * 100);

step("identities", some(PROFILE.googleShare).length, () => {
  const insert = db.prepare(`INSERT INTO identities (provider, provider_user_id, user_id, email, created_at) VALUES ('google', ?, ?, ?, ?)`);
  some(PROFILE.googleShare).forEach((u, i) => insert.run(String(100000000000000000000n + BigInt(i)), u, `g${i}@gmail.com`, now));
});

step("passkeys", some(PROFILE.passkeyShare).length, () => {
  const insert = db.prepare(
    `INSERT INTO passkeys (id, user_id, credential_id, public_key, counter, transports, backed_up, device_type, aaguid, name, created_at, last_used_at)
       VALUES (?, ?, ?, ?, 0, '["hybrid","internal"]', 1, 'multiDevice', ?, 'iCloud Keychain', ?, ?)`,
  );
  some(PROFILE.passkeyShare).forEach((u) => insert.run(uuid(), u, b64(20), b64(77), uuid(), now, now));
});

const totp = some(PROFILE.totpShare);
step("mfa_totp + 10 mfa_recovery_codes", totp.length, () => {
  const secret = db.prepare(`INSERT INTO mfa_totp (user_id, secret_ciphertext, key_id, confirmed_at, created_at) VALUES (?, ?, 'k1', ?, ?)`);
  const code = db.prepare(`INSERT INTO mfa_recovery_codes (user_id, code_hash, used_at, created_at) VALUES (?, ?, NULL, ?)`);
  for (const u of totp) {
    secret.run(u, b64(12 + 20 + 16), now, now);
    for (let c = 0; c < 10; c++) code.run(u, b64(32), now);
  }
});

const kyc = some(PROFILE.kycShare);
step("kyc_applications + 3 kyc_documents", kyc.length, () => {
  const app = db.prepare(
    `INSERT INTO kyc_applications (id, user_id, status, document_type, rejection_reason, submitted_at, decided_at, decided_by) VALUES (?, ?, 'APPROVED', 'NATIONAL_ID', NULL, ?, ?, ?)`,
  );
  const doc = db.prepare(
    `INSERT INTO kyc_documents (id, application_id, kind, content_type, size, r2_key, created_at) VALUES (?, ?, ?, 'image/jpeg', 2400000, ?, ?)`,
  );
  for (const u of kyc) {
    const a = uuid();
    app.run(a, u, now, now, uuid());
    for (const kind of ["front", "back", "selfie"]) {
      const d = uuid();
      doc.run(d, a, kind, `kyc/${u}/${a}/${d}`, now);
    }
  }
});

const total = pages();
db.close();
rmSync(dir, { recursive: true, force: true });

const GB = 1e9;
console.log(`D1 size of ${USERS} users (migrations/ applied, 4 KiB pages, rows inserted table by table)\n`);
console.log("| table | rows | bytes per row | bytes per user |");
console.log("|---|---|---|---|");
for (const s of steps) {
  console.log(`| ${s.table} | ${s.rows} | ${s.rows ? Math.round(s.bytes / s.rows) : "-"} | ${Math.round(s.bytes / USERS)} |`);
}
const perUser = total / USERS;
const sessionBytes = steps.find((s) => s.table === "sessions").bytes / (USERS * PROFILE.sessionsPerUser);
console.log(`\nprofile: ${JSON.stringify(PROFILE)}`);
console.log(`whole database: ${(total / 1e6).toFixed(1)} MB, ${Math.round(perUser)} bytes per user, ${Math.round(GB / perUser).toLocaleString("en")} users per GB,`);
console.log(`${Math.round((10 * GB) / perUser).toLocaleString("en")} users in D1's 10 GB; each further year of sign-ins adds ${Math.round(sessionBytes * PROFILE.sessionsPerUser)} bytes per user (sessions are not pruned)`);
