// Writes public/data/common-passwords.txt from zxcvbn-ts's list of ~49,000 common passwords: only
// those of 8 to 128 characters (the schemas refuse every other length before the list is asked),
// lower-cased, deduplicated and sorted, one a line. The same refusals as the whole list, in a third
// of the bytes and without the package's other dictionaries. It is a static asset, not code: the
// Worker fetches it through its ASSETS binding on the first password check and keeps it as a Set
// (src/storage/common-passwords.ts), so it adds nothing to the bundle or to startup.
// Run: npx node scripts/gen-common-passwords.mjs
import { mkdirSync, writeFileSync } from "node:fs";
import { dictionary } from "@zxcvbn-ts/language-common";

const all = dictionary["passwords-common"];
const words = [...new Set(all.map((w) => w.toLowerCase()).filter((w) => w.length >= 8 && w.length <= 128))].sort();
const file = new URL("../public/data/common-passwords.txt", import.meta.url);
mkdirSync(new URL(".", file), { recursive: true });
writeFileSync(file, `${words.join("\n")}\n`);
console.log(`${words.length} of ${all.length} passwords, public/data/common-passwords.txt`);
