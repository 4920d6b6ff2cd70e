// A KYC document's bytes as a download: its content type (decided from its bytes at upload), never
// cached, never sniffed, and unable to run anything if a browser opens it in a tab anyway.

export function documentResponse(
  file: { document: { id: string; contentType: string }; object: { body: ReadableStream; size: number }; extension: string },
  extraHeaders: Record<string, string> = {},
): Response {
  const { document, object, extension } = file;
  return new Response(object.body, {
    status: 200,
    headers: {
      "Content-Type": document.contentType,
      "Content-Length": String(object.size),
      "Content-Disposition": `attachment; filename="${document.id}.${extension}"`,
      "Cache-Control": "private, no-store",
      "X-Content-Type-Options": "nosniff",
      "Content-Security-Policy": "default-src 'none'; sandbox",
      ...extraHeaders,
    },
  });
}
