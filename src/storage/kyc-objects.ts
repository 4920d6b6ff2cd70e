// KYC documents in R2. Every key is built here, from ids the service made: never from a user's file
// name, so no upload can choose or overwrite another object.

export const KYC_PREFIX = "kyc/";

export function kycObjectKey(userId: string, applicationId: string, documentId: string): string {
  return `${KYC_PREFIX}${userId}/${applicationId}/${documentId}`;
}

export type KycObjectMeta = { contentType: string; size: number; kind: string };

/**
 * Stores a document whose type was already decided from its bytes; the type travels as metadata.
 * The chunks go through a FixedLengthStream (R2 needs the length up front), so the file is never
 * copied into one buffer on the way.
 */
export async function putKycObject(bucket: R2Bucket, key: string, chunks: Uint8Array[], meta: KycObjectMeta): Promise<void> {
  const { readable, writable } = new FixedLengthStream(meta.size);
  const put = bucket.put(key, readable, {
    httpMetadata: { contentType: meta.contentType },
    customMetadata: { contentType: meta.contentType, size: String(meta.size), kind: meta.kind },
  });
  const writer = writable.getWriter();
  const written = (async () => {
    for (const chunk of chunks) await writer.write(chunk);
    await writer.close();
  })();
  await Promise.all([put, written]);
}

export function getKycObject(bucket: R2Bucket, key: string): Promise<R2ObjectBody | null> {
  return bucket.get(key);
}

/** R2 deletes at most 1000 keys per call. */
export async function deleteKycObjects(bucket: R2Bucket, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 1000) await bucket.delete(keys.slice(i, i + 1000));
}

/**
 * One page of objects under `kyc/` in key order, after `startAfter` when given (R2 lists at most
 * 1000 per call); `next` is the key to start after for the following page, or undefined at the end.
 */
export async function listKycObjects(
  bucket: R2Bucket,
  startAfter: string | undefined,
): Promise<{ objects: { key: string; uploaded: Date }[]; next: string | undefined }> {
  const page = await bucket.list({ prefix: KYC_PREFIX, limit: 1000, ...(startAfter ? { startAfter } : {}) });
  return {
    objects: page.objects.map((o) => ({ key: o.key, uploaded: o.uploaded })),
    next: page.truncated ? page.objects.at(-1)?.key : undefined,
  };
}

// Where the daily orphan sweep stopped, when the listing was longer than one run may read: the key
// the next run starts after. Kept a week; an older one is forgotten and the sweep starts over.
const SWEEP_MARK = "kyc-sweep:after";
const SWEEP_MARK_TTL_SECONDS = 7 * 86_400;

export async function readSweepMark(kv: KVNamespace): Promise<string | undefined> {
  return (await kv.get(SWEEP_MARK)) ?? undefined;
}

export async function writeSweepMark(kv: KVNamespace, after: string | undefined): Promise<void> {
  if (after === undefined) await kv.delete(SWEEP_MARK);
  else await kv.put(SWEEP_MARK, after, { expirationTtl: SWEEP_MARK_TTL_SECONDS });
}

/**
 * Deletes every object under `kyc/<user id>/` (an account's deletion): the prefix holds all of the
 * user's documents, whether or not their rows were written. Returns how many were deleted.
 */
export async function deleteKycObjectsOfUser(bucket: R2Bucket, userId: string): Promise<number> {
  let deleted = 0;
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: `${KYC_PREFIX}${userId}/`, limit: 1000, ...(cursor ? { cursor } : {}) });
    const keys = page.objects.map((o) => o.key);
    if (keys.length > 0) await bucket.delete(keys);
    deleted += keys.length;
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return deleted;
}
