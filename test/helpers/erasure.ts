// What an account's deletion must leave behind: nothing that holds the user's email, phone or names,
// in any D1 table, KV key or value, or the Durable Objects named after the user and their addresses.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { authed, post, type Json } from "./http";
import { subjectStub } from "./stored";

/** Every row of every table of D1 (the migrations' own bookkeeping aside), as JSON text, by table. */
export async function everyD1Row(): Promise<Record<string, string>> {
  const { results } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations'",
  ).all<{ name: string }>();
  const dump: Record<string, string> = {};
  for (const { name } of results) dump[name] = JSON.stringify((await env.DB.prepare(`SELECT * FROM "${name}"`).all()).results);
  return dump;
}

/** Every KV key with its value. */
export async function everyKvEntry(): Promise<string[]> {
  const entries: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.KV.list(cursor ? { cursor } : {});
    for (const { name } of page.keys) entries.push(`${name} => ${await env.KV.get(name)}`);
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return entries;
}

/** The tables an object's SQLite holds, each with its rows as JSON text (none: the object holds nothing). */
export function objectContents(name: string): Promise<Record<string, string>> {
  return runInDurableObject(subjectStub(name), async (_instance, state) => {
    const sql = state.storage.sql;
    const tables = sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'")
      .toArray();
    return Object.fromEntries(tables.map(({ name: t }) => [t, JSON.stringify(sql.exec(`SELECT * FROM "${t}"`).toArray())]));
  });
}

/** No D1 row, KV entry, or object of the user or their addresses holds any of `personal`. */
export async function expectNothingHolds(personal: string[], objects: string[]): Promise<void> {
  const d1 = await everyD1Row();
  const kv = await everyKvEntry();
  for (const value of personal) {
    for (const [table, rows] of Object.entries(d1)) expect(rows.includes(value), `D1 ${table} holds ${value}`).toBe(false);
    expect(kv.filter((entry) => entry.includes(value)), `KV holds ${value}`).toEqual([]);
  }
  for (const name of objects) {
    expect(await objectContents(name), `the object ${name}`).toEqual({});
    expect(await runInDurableObject(subjectStub(name), (_instance, state) => state.storage.getAlarm()), `the alarm of ${name}`).toBeNull();
  }
}

/** DELETE /users/me with the token. */
export function deleteMe(token: string): Promise<Response> {
  return authed(token, "/users/me", { method: "DELETE" });
}

/** DELETE /admin/users/{id} with an admin's token. */
export function deleteUser(adminToken: string, id: string): Promise<Response> {
  return authed(adminToken, `/admin/users/${id}`, { method: "DELETE" });
}

/** A password sign-in's status and problem code (the account is gone: 401, or 403 while marked). */
export async function loginOutcome(email: string, password: string): Promise<{ status: number; code: string | undefined }> {
  const res = await post("/auth/login", { email, password, device_id: "after-deletion" });
  const body = await res.json<Json>();
  return { status: res.status, code: body.code };
}
