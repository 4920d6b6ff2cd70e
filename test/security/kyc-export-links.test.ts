// Invariant: a KYC document link from an account export downloads exactly one document of its owner,
// for 10 minutes and not a moment after (the clock is chosen, not waited for), and any change to it
// (another document, another user's document, a later expiry, a changed signature) is refused with one
// answer, 403 invalid_download_link, that does not say which check failed; never a bearer token
// instead of the signature, and never a 5xx whatever the query.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { KYC_LINK_TTL_SECONDS, openLinkedDocument, signDocumentLink } from "../../src/domain/kyc-document-links";
import { authed, call, customerUser, expectProblem, PNG, submitOk, testDeps, type Json } from "../helpers";

type Link = { url: URL; docId: string; expires: number; sig: string };

function parse(url: string): Link {
  const u = new URL(url);
  return {
    url: u,
    docId: u.pathname.split("/").at(-1)!,
    expires: Number(u.searchParams.get("expires")),
    sig: u.searchParams.get("sig")!,
  };
}

const linkPath = (docId: string, expires: number | string, sig: string) =>
  `/users/me/export/kyc-documents/${docId}?expires=${expires}&sig=${encodeURIComponent(sig)}`;

/** A customer with a submitted application, and the links their export hands out. */
async function userWithLinks() {
  const user = await customerUser();
  const application = await submitOk(user.token);
  const res = await authed(user.token, "/users/me/export");
  expect(res.status).toBe(200);
  const doc = await res.json<Json>();
  const links = (doc.kyc_applications[0].documents as Json[]).map((d) => parse(d.download_url));
  return { user, application, links };
}

/** A link minted at a chosen time, as the export would have minted it then. */
async function linkMintedAt(docId: string, userId: string, at: number): Promise<Link> {
  const { deps } = testDeps();
  return parse((await signDocumentLink(deps, { documentId: docId, userId }, at)).url);
}

describe("KYC document links of an export", () => {
  it("work for 10 minutes and not after: minted 9 min 58 s ago yes, 10 minutes ago no", async () => {
    const { user, links } = await userWithLinks();
    const front = links[0]!;
    const now = Date.now();
    const recent = await linkMintedAt(front.docId, user.id, now - (KYC_LINK_TTL_SECONDS - 2) * 1000);
    const ok = await call(linkPath(recent.docId, recent.expires, recent.sig));
    expect(ok.status).toBe(200);
    expect(new Uint8Array(await ok.arrayBuffer())).toEqual(PNG);

    const stale = await linkMintedAt(front.docId, user.id, now - KYC_LINK_TTL_SECONDS * 1000 - 1000);
    await expectProblem(await call(linkPath(stale.docId, stale.expires, stale.sig)), 403, "invalid_download_link");
  });

  it("the domain's check at the edge of the window: the last millisecond before expiry passes, expiry itself does not", async () => {
    const { deps, settle } = testDeps();
    const { links } = await userWithLinks();
    const link = links[0]!;
    const bucket = env.KYC_BUCKET;
    const expiresMs = link.expires * 1000;
    const opened = await openLinkedDocument(deps, bucket, { documentId: link.docId, expires: link.expires, sig: link.sig }, expiresMs - 1);
    await opened.object.arrayBuffer();
    await expect(openLinkedDocument(deps, bucket, { documentId: link.docId, expires: link.expires, sig: link.sig }, expiresMs)).rejects.toMatchObject({
      code: "invalid_download_link",
    });
    await settle();
  });

  it("a link cannot be turned to another document, another user's document or a later expiry", async () => {
    const a = await userWithLinks();
    const b = await userWithLinks();
    const [front, back] = a.links as [Link, Link];
    const refused = async (path: string) => expectProblem(await call(path), 403, "invalid_download_link");

    await refused(linkPath(back.docId, front.expires, front.sig)); // a's signature on a's other document
    await refused(linkPath(b.links[0]!.docId, front.expires, front.sig)); // a's signature on b's document
    await refused(linkPath(front.docId, b.links[0]!.expires, b.links[0]!.sig)); // b's signature on a's document
    await refused(linkPath(front.docId, front.expires + 60, front.sig)); // a later expiry
    await refused(linkPath(front.docId, front.expires - 1, front.sig));
    const flipped = front.sig.slice(0, -1) + (front.sig.endsWith("A") ? "B" : "A");
    await refused(linkPath(front.docId, front.expires, flipped));
    await refused(linkPath(front.docId, front.expires, front.sig.slice(0, -1)));
    await refused(linkPath(crypto.randomUUID(), front.expires, front.sig)); // no such document: the same answer

    // A link signed for b naming a's document (as a signer that mixed the ids up would make) fails too.
    const mixed = await linkMintedAt(front.docId, b.user.id, Date.now());
    await refused(linkPath(mixed.docId, mixed.expires, mixed.sig));
    // A link whose expiry is further away than any the service hands out is not one it made.
    const far = await linkMintedAt(front.docId, a.user.id, Date.now() + 3600_000);
    await refused(linkPath(far.docId, far.expires, far.sig));

    // The owner's own bearer token is no substitute for the signature.
    await refused(linkPath(front.docId, front.expires, "x".repeat(43)));
    await expectProblem(await authed(a.user.token, linkPath(front.docId, front.expires, "x".repeat(43))), 403, "invalid_download_link");

    // The untouched links still work, also many at once.
    const answers = await Promise.all(Array.from({ length: 10 }, () => call(linkPath(front.docId, front.expires, front.sig))));
    for (const res of answers) {
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
  });

  it("malformed queries are 400 validation errors, never a server error", async () => {
    const { links } = await userWithLinks();
    const link = links[0]!;
    for (const path of [
      `/users/me/export/kyc-documents/${link.docId}`,
      `/users/me/export/kyc-documents/${link.docId}?expires=soon&sig=${link.sig}`,
      `/users/me/export/kyc-documents/${link.docId}?expires=-5&sig=${link.sig}`,
      `/users/me/export/kyc-documents/${link.docId}?expires=1e400&sig=${link.sig}`,
      `/users/me/export/kyc-documents/not-a-uuid?expires=${link.expires}&sig=${link.sig}`,
      `/users/me/export/kyc-documents/${link.docId}?expires=${link.expires}&sig=${"a".repeat(5000)}`,
    ]) {
      await expectProblem(await call(path), 400, "validation_error");
    }
  });
});
