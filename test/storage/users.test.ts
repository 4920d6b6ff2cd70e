// The users repository against real D1: lookups by email, id, username key and phone; the username's
// canonical column written with it; and the proved-number insert that takes the number from an
// account that only claimed it, in one transaction.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database, uniqueViolation } from "../../src/storage/db";
import {
  findAccountByPhone,
  findUserByEmail,
  findUserById,
  findUserByPhone,
  findUserByUsername,
  insertUser,
  insertUserWithProvedPhone,
  updateProfile,
  type NewUser,
} from "../../src/storage/users";
import { presentUser } from "../../src/presenters";
import { uniqueEmail, uniquePhone, uniqueUsername } from "../helpers";

const db = database(env.DB);

function newUser(fields: Partial<NewUser> = {}): NewUser {
  return { id: crypto.randomUUID(), email: uniqueEmail("repo"), fullName: "Repo User", ...fields };
}

/** The row as D1 holds it, columns by their SQL names. */
async function rawRow(id: string) {
  return env.DB.prepare("SELECT email, username, username_key, phone, is_phone_verified, created_at, updated_at FROM users WHERE id = ?")
    .bind(id)
    .first<{ email: string | null; username: string | null; username_key: string | null; phone: string | null; is_phone_verified: number; created_at: number; updated_at: number }>();
}

/** The column whose unique constraint the write broke (null when it succeeded). */
async function violatedColumn(write: Promise<unknown>): Promise<string | null> {
  return uniqueViolation(await write.catch((err: unknown) => err));
}

describe("insertUser and the lookups", () => {
  it("finds a user by email and by id, with the times it was given; unknown keys find nothing", async () => {
    const now = new Date(1_767_225_600_000);
    const user = await insertUser(db, newUser(), now);
    expect(user).toMatchObject({ role: "CUSTOMER", isActive: true, isEmailVerified: false, kycStatus: "NOT_SUBMITTED" });
    expect(user.createdAt.getTime()).toBe(now.getTime());
    expect(user.updatedAt.getTime()).toBe(now.getTime());

    expect((await findUserByEmail(db, user.email!))?.id).toBe(user.id);
    expect((await findUserById(db, user.id))?.email).toBe(user.email);
    expect(await findUserByEmail(db, uniqueEmail("nobody"))).toBeUndefined();
    expect(await findUserById(db, crypto.randomUUID())).toBeUndefined();
  });

  it("writes username_key, the NFKC lower-case form, and finds the user by any case or width of the name", async () => {
    const username = uniqueUsername("Ada_");
    const user = await insertUser(db, newUser({ username }), new Date());
    expect(await rawRow(user.id)).toMatchObject({ username, username_key: username.toLowerCase() });

    const fullWidth = [...username.toUpperCase()].map((ch) => String.fromCodePoint(ch.codePointAt(0)! + 0xfee0)).join("");
    for (const typed of [username, username.toUpperCase(), username.toLowerCase(), fullWidth]) {
      expect({ typed, found: await findUserByUsername(db, typed) }).toEqual({ typed, found: { id: user.id } });
    }
    expect(await findUserByUsername(db, uniqueUsername())).toBeUndefined();
  });

  it("refuses a second user whose name differs only by case, naming username_key", async () => {
    const username = uniqueUsername("Pc_");
    await insertUser(db, newUser({ username }), new Date());
    expect(await violatedColumn(insertUser(db, newUser({ username: username.toUpperCase() }), new Date()))).toBe("username_key");
  });

  it("lets any number of users have no username", async () => {
    const a = await insertUser(db, newUser({ username: null }), new Date());
    const b = await insertUser(db, newUser(), new Date());
    expect((await rawRow(a.id))!.username_key).toBeNull();
    expect((await rawRow(b.id))!.username_key).toBeNull();
  });

  it("refuses a second user with the same email, naming email", async () => {
    const email = uniqueEmail("twice");
    await insertUser(db, newUser({ email }), new Date());
    expect(await violatedColumn(insertUser(db, newUser({ email }), new Date()))).toBe("email");
  });

  it("finds a user by phone number, proved or not", async () => {
    const phone = uniquePhone();
    const user = await insertUser(db, newUser({ phone }), new Date());
    expect(await findUserByPhone(db, phone)).toEqual({ id: user.id });
    expect((await findAccountByPhone(db, phone))?.id).toBe(user.id);
    expect(await findUserByPhone(db, uniquePhone())).toBeUndefined();
    expect(await findAccountByPhone(db, uniquePhone())).toBeUndefined();
  });
});

describe("insertUserWithProvedPhone", () => {
  it("creates the user with the number proved and takes it from an account that only claimed it, in one batch", async () => {
    const phone = uniquePhone();
    const claimer = await insertUser(db, newUser({ phone, isPhoneVerified: false }), new Date());
    const now = new Date();

    const owner = await insertUserWithProvedPhone(db, { id: crypto.randomUUID(), phone, email: null }, now);
    expect(owner).toMatchObject({ phone, isPhoneVerified: true });
    expect(await rawRow(owner.id)).toMatchObject({ phone, is_phone_verified: 1 });
    expect(await rawRow(claimer.id)).toMatchObject({ phone: null, updated_at: now.getTime() });
    expect(await findUserByPhone(db, phone)).toEqual({ id: owner.id });
  });

  it("never takes a number its holder proved: the insert fails and the holder keeps it", async () => {
    const phone = uniquePhone();
    const holder = await insertUser(db, newUser({ phone, isPhoneVerified: true }), new Date());
    expect(await violatedColumn(insertUserWithProvedPhone(db, { id: crypto.randomUUID(), phone, email: null }, new Date()))).toBe("phone");
    expect(await rawRow(holder.id)).toMatchObject({ phone, is_phone_verified: 1 });
  });

  it("leaves the claimer's number in place when the insert fails (the batch is one transaction)", async () => {
    const phone = uniquePhone();
    const claimer = await insertUser(db, newUser({ phone, isPhoneVerified: false }), new Date());
    const taken = await insertUser(db, newUser(), new Date());
    // The insert breaks the unique email after the update took the number: both roll back.
    const insert = insertUserWithProvedPhone(db, { id: crypto.randomUUID(), phone, email: taken.email }, new Date());
    expect(await violatedColumn(insert)).toBe("email");
    expect(await rawRow(claimer.id)).toMatchObject({ phone, is_phone_verified: 0 });
  });
});

describe("updateProfile", () => {
  it("writes username_key with the username, clears both together, and leaves them alone otherwise", async () => {
    const user = await insertUser(db, newUser(), new Date());
    const username = uniqueUsername("Grace_");

    await updateProfile(db, user.id, { username }, new Date());
    expect(await rawRow(user.id)).toMatchObject({ username, username_key: username.toLowerCase() });

    await updateProfile(db, user.id, { fullName: "Grace Hopper" }, new Date());
    expect(await rawRow(user.id)).toMatchObject({ username, username_key: username.toLowerCase() });

    await updateProfile(db, user.id, { username: null }, new Date());
    expect(await rawRow(user.id)).toMatchObject({ username: null, username_key: null });
  });

  it("answers undefined for an unknown id", async () => {
    expect(await updateProfile(db, crypto.randomUUID(), { fullName: "Nobody" }, new Date())).toBeUndefined();
  });
});

describe("presentUser", () => {
  it("shows a claimed address only when no proved one exists, and times as ISO strings", async () => {
    const claimed = uniqueEmail("claimed");
    const phoneUser = await insertUser(db, newUser({ email: null, unverifiedEmail: claimed, phone: uniquePhone() }), new Date(0));
    expect(presentUser(phoneUser)).toMatchObject({ email: claimed, is_email_verified: false, created_at: "1970-01-01T00:00:00.000Z" });

    const emailUser = await insertUser(db, newUser({ unverifiedEmail: uniqueEmail("ignored") }), new Date());
    expect(presentUser(emailUser).email).toBe(emailUser.email);
    expect(presentUser(emailUser)).not.toHaveProperty("password_hash");
  });
});
