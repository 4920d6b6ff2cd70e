// Invariant: a username is one name whatever its case or Unicode compatibility form (NFKC), at
// sign-up and at a profile change, under a concurrent burst too; names that would pass for the
// service or its staff are reserved. The name is shown as its owner typed it.
import { describe, expect, it } from "vitest";
import { expectProblem, PASSWORD, patchMe, post, signedInUser, tally, uniqueEmail, uniqueUsername, type Outcome } from "../helpers";

/** Full-width form of an ASCII name (NFKC folds it back). */
function fullWidth(name: string): string {
  return [...name].map((ch) => String.fromCodePoint(ch.codePointAt(0)! + 0xfee0)).join("");
}

describe("username uniqueness", () => {
  it("a name differing only by case or width is taken, at sign-up and in the profile", async () => {
    const name = uniqueUsername("Pc");
    const owner = await signedInUser({ username: name });
    expect(owner.tokens.user.username).toBe(name);

    for (const variant of [name.toLowerCase(), name.toUpperCase(), fullWidth(name)]) {
      await expectProblem(
        await post("/auth/register", { email: uniqueEmail(), password: PASSWORD, full_name: "X", username: variant }),
        409,
        "username_taken",
      );
    }
    const other = await signedInUser();
    for (const variant of [name.toLowerCase(), fullWidth(name.toUpperCase())]) {
      await expectProblem(await patchMe(other.tokens.access_token, { username: variant }), 409, "username_taken");
    }
  });

  it("a full-width name is stored in its NFKC form", async () => {
    const name = uniqueUsername("Pc");
    const { tokens } = await signedInUser();
    const res = await patchMe(tokens.access_token, { username: fullWidth(name) });
    expect(res.status).toBe(200);
    expect((await res.json<{ username: string }>()).username).toBe(name);
  });

  it("reserved names are refused whatever the case or separators", async () => {
    const { tokens } = await signedInUser();
    for (const name of ["admin", "Admin", "ADMINISTRATOR", "sup_port", "Ad-min", "ｓｕｐｐｏｒｔ"]) {
      const body = await expectProblem(await patchMe(tokens.access_token, { username: name }), 400, "validation_error");
      expect(body.errors).toEqual([expect.objectContaining({ path: "username" })]);
      await expectProblem(
        await post("/auth/register", { email: uniqueEmail(), password: PASSWORD, full_name: "X", username: name }),
        400,
        "validation_error",
      );
    }
  });

  it("10 users claiming case variants of one name at once: exactly one gets it", async () => {
    const name = uniqueUsername("Pc");
    const users = await Promise.all(Array.from({ length: 10 }, () => signedInUser()));
    const variants = users.map((_, i) => [...name].map((ch, j) => ((i >> j) & 1 ? ch.toUpperCase() : ch.toLowerCase())).join(""));
    const answers = await Promise.all(users.map((u, i) => patchMe(u.tokens.access_token, { username: variants[i]! })));
    const outcomes: Outcome[] = await Promise.all(
      answers.map(async (r) => ({ status: r.status, code: r.status >= 400 ? ((await r.json()) as { code: string }).code : undefined })),
    );
    expect(tally(outcomes)).toEqual({ "200 ok": 1, "409 username_taken": 9 });
  });
});
