// Invariant: the SDK sends back the newest D1 bookmark it was given (X-D1-Bookmark), so a user reads
// their own writes from any replica: after a profile change the next read carries that answer's
// bookmark. It never sends the bookmark to another origin, and an older bookmark arriving late (the
// answer to a concurrent call) does not replace a newer one.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createAuthClient, memoryStorage } from "../../sdk/src/index";
import { BASE, signedInUser, url } from "../helpers";
import { tokenResponse } from "./sdk-helpers";

const HEADER = "X-D1-Bookmark";

/** An SDK client over the Worker that records the bookmark each request carried and each answer gave. */
function recordingClient(answer?: (request: Request) => Promise<Response>) {
  const log: { url: string; sent: string | null; got: string | null }[] = [];
  const client = createAuthClient({
    baseUrl: BASE,
    storage: memoryStorage(),
    deviceId: "bookmark-device",
    fetch: async (input, init) => {
      const request = new Request(input, init);
      const res = answer ? await answer(request) : await exports.default.fetch(request);
      log.push({ url: request.url, sent: request.headers.get(HEADER), got: res.headers.get(HEADER) });
      return res;
    },
  });
  return { client, log };
}

describe("the SDK carries the D1 bookmark", () => {
  it("sends back the bookmark of the last answer: a profile change, then a read", async () => {
    const { tokens } = await signedInUser();
    const { client, log } = recordingClient();
    await client.setSession(tokenResponse(tokens));
    expect((await client.updateProfile({ first_name: "Grace" })).first_name).toBe("Grace");
    const afterWrite = log.at(-1)!.got;
    expect(afterWrite).toMatch(/^[0-9a-f]+(-[0-9a-f]+)+$/);
    expect((await client.me()).first_name).toBe("Grace");
    expect(log.at(-1)!.sent).toBe(afterWrite);
  });

  it("sends no bookmark before it has one, and none to another origin", async () => {
    const { client, log } = recordingClient(async () =>
      new Response("{}", { headers: { "Content-Type": "application/json", [HEADER]: "00000000-00000005-00000000-00000000000000000000000000000000" } }),
    );
    await client.fetch(url("/health"));
    expect(log[0]!.sent).toBeNull();
    await client.fetch("https://elsewhere.example/api");
    expect(log[1]!.sent).toBeNull();
    await client.fetch(url("/health"));
    expect(log[2]!.sent).toBe("00000000-00000005-00000000-00000000000000000000000000000000");
  });

  it("keeps the newest bookmark when answers arrive out of order", async () => {
    const marks = ["00000000-00000009-00000000-00000000000000000000000000000000", "00000000-00000003-00000000-00000000000000000000000000000000"];
    let n = 0;
    const { client, log } = recordingClient(async () => new Response("{}", { headers: { [HEADER]: marks[n++] ?? "" } }));
    await client.fetch(url("/health"));
    await client.fetch(url("/health"));
    await client.fetch(url("/health"));
    expect(log[2]!.sent).toBe(marks[0]);
  });
});
