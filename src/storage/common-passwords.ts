// The common-password deny list is a static asset (public/data/common-passwords.txt, written by
// scripts/gen-common-passwords.mjs), not part of the Worker's code: it is fetched through the
// ASSETS binding on the first password check an isolate makes and kept there as a Set. The list is
// public data (a published dictionary), so the asset being reachable over HTTP gives nothing away.

/** Where the list is served from the static assets. */
export const COMMON_PASSWORDS_PATH = "/data/common-passwords.txt";

/** Asked by the password policy (src/domain/password-policy.ts) with the lower-cased password. */
export interface CommonPasswords {
  has(lowered: string): Promise<boolean>;
}

export function commonPasswordsOf(assets: Fetcher): CommonPasswords {
  let loading: Promise<Set<string>> | undefined;
  // One fetch per isolate (the wiring builds this once per bindings object); a failed one is not
  // kept, so the next check tries again.
  const load = () =>
    (loading ??= fetchList(assets).catch((err: unknown) => {
      loading = undefined;
      throw err;
    }));
  return {
    async has(lowered) {
      return (await load()).has(lowered);
    },
  };
}

async function fetchList(assets: Fetcher): Promise<Set<string>> {
  const res = await assets.fetch(new Request(`https://assets.local${COMMON_PASSWORDS_PATH}`));
  if (!res.ok) {
    throw new Error(`the common-password list answered ${res.status}`);
  }
  const words = (await res.text()).split("\n");
  return new Set(words.filter((w) => w.length > 0));
}
