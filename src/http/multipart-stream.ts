// A multipart/form-data body read as it arrives (@fastify/busboy, which names each part before its
// bytes), with every limit checked while reading. A part is handed over whole once it ends; a part
// that passes its limit, or is not in the form's shape, stops the read at once and the rest of the
// body is cancelled, never read.
import Busboy from "@fastify/busboy";

/** The form's shape: each name may come once, as a text field or as a file. */
export type FormShape = Record<string, "field" | "file">;

export type MultipartLimits = {
  /** Largest file part, in bytes. */
  fileBytes: number;
  /** Largest text field value, in bytes. */
  fieldBytes: number;
  /** Largest header block of one part, in bytes (the rest of a longer one is dropped). */
  headerBytes: number;
  /** Every byte read, framing included: the bound on a body sent without Content-Length. */
  bodyBytes: number;
};

export type FormPart =
  | { type: "field"; name: string; value: string }
  | { type: "file"; name: string; chunks: Uint8Array[]; size: number };

export type MultipartFailure =
  | { reason: "malformed" }
  | { reason: "too_many_parts" }
  | { reason: "body_too_large" }
  | { reason: "unexpected_part"; name: string; problem: "unknown" | "repeated" | "file_expected" | "text_expected" }
  | { reason: "field_too_large"; name: string }
  | { reason: "file_too_large"; name: string };

export class MultipartError extends Error {
  constructor(readonly failure: MultipartFailure) {
    super(`multipart: ${failure.reason}`);
  }
}

// The part of busboy's Node-stream API used here (its own types need @types/node).
type FileStream = {
  truncated: boolean;
  on(event: "data", listener: (chunk: Uint8Array) => void): FileStream;
  on(event: "limit" | "end" | "error", listener: () => void): FileStream;
};
type Parser = {
  on(event: "field", listener: (name: string, value: string, nameCut: boolean, valueCut: boolean) => void): Parser;
  on(event: "file", listener: (name: string, stream: FileStream) => void): Parser;
  on(event: "partsLimit" | "filesLimit" | "fieldsLimit" | "error" | "finish", listener: () => void): Parser;
  write(chunk: Uint8Array, callback: (err?: Error | null) => void): boolean;
  end(): void;
  destroy(): void;
};

function openParser(contentType: string, shape: FormShape, limits: MultipartLimits): Parser {
  // One part more than the shape allows reaches the checks by name, which can say what is wrong with it.
  const parts = Object.keys(shape).length + 1;
  try {
    return Busboy({
      headers: { "content-type": contentType },
      limits: {
        fileSize: limits.fileBytes,
        fieldSize: limits.fieldBytes,
        files: parts,
        fields: parts,
        parts,
        headerSize: limits.headerBytes,
        headerPairs: 8,
      },
    }) as unknown as Parser;
  } catch {
    // No boundary, or not multipart/form-data.
    throw new MultipartError({ reason: "malformed" });
  }
}

type PartProblem = Extract<MultipartFailure, { reason: "unexpected_part" }>["problem"];

function problemWith(shape: FormShape, seen: Set<string>, name: string, type: "field" | "file"): PartProblem | null {
  if (!Object.hasOwn(shape, name)) return "unknown";
  if (seen.has(name)) return "repeated";
  if (shape[name] !== type) return shape[name] === "file" ? "file_expected" : "text_expected";
  return null;
}

/** Busboy's events turned into the parts completed so far, in order, and the first failure. */
class Collector {
  readonly ready: FormPart[] = [];
  failure: MultipartFailure | undefined;
  readonly failed: Promise<void>;
  readonly finished: Promise<void>;
  #wake!: () => void;
  readonly #seen = new Set<string>();

  constructor(
    parser: Parser,
    private readonly shape: FormShape,
  ) {
    this.failed = new Promise((resolve) => (this.#wake = resolve));
    this.finished = new Promise((resolve) => parser.on("finish", resolve));
    parser.on("field", (name, value, _nameCut, valueCut) => {
      if (!this.#expected(name, "field")) return;
      if (valueCut) this.fail({ reason: "field_too_large", name });
      else this.ready.push({ type: "field", name, value });
    });
    parser.on("file", (name, stream) => {
      stream.on("error", () => this.fail({ reason: "malformed" }));
      if (this.#expected(name, "file")) this.#collect(name, stream);
    });
    parser.on("partsLimit", () => this.fail({ reason: "too_many_parts" }));
    parser.on("filesLimit", () => this.fail({ reason: "too_many_parts" }));
    parser.on("fieldsLimit", () => this.fail({ reason: "too_many_parts" }));
    parser.on("error", () => this.fail({ reason: "malformed" }));
  }

  fail(failure: MultipartFailure): void {
    this.failure ??= failure;
    this.#wake();
  }

  // Checked as soon as a part's header is read (a field's, once its short value is in).
  #expected(name: string, type: "field" | "file"): boolean {
    const problem = problemWith(this.shape, this.#seen, name, type);
    this.#seen.add(name);
    if (problem) this.fail({ reason: "unexpected_part", name, problem });
    return problem === null;
  }

  #collect(name: string, stream: FileStream): void {
    const chunks: Uint8Array[] = [];
    let size = 0;
    stream.on("data", (chunk) => {
      chunks.push(chunk);
      size += chunk.byteLength;
    });
    stream.on("limit", () => {
      chunks.length = 0;
      this.fail({ reason: "file_too_large", name });
    });
    stream.on("end", () => {
      if (!stream.truncated) this.ready.push({ type: "file", name, chunks, size });
    });
  }
}

/**
 * Yields each field and each file (its chunks, at most `fileBytes`) as it completes. The next
 * bytes are read only after the consumer has taken the parts ready so far, so at most one file is
 * held at a time. Throws MultipartError; whatever way it ends, the request body is cancelled.
 */
export async function* streamMultipart(
  body: ReadableStream<Uint8Array>,
  contentType: string,
  shape: FormShape,
  limits: MultipartLimits,
): AsyncGenerator<FormPart, void, undefined> {
  const reader = body.getReader();
  let parser: Parser | undefined;
  try {
    parser = openParser(contentType, shape, limits);
    const parts = new Collector(parser, shape);
    // Whatever busboy throws or reports is a malformed body (400), never a 500.
    const write = (chunk: Uint8Array) =>
      new Promise<void>((resolve) => {
        try {
          parser!.write(chunk, (err) => (err ? parts.fail({ reason: "malformed" }) : resolve()));
        } catch {
          parts.fail({ reason: "malformed" });
        }
      });
    let read = 0;
    for (;;) {
      if (parts.failure) throw new MultipartError(parts.failure);
      while (parts.ready.length > 0) yield parts.ready.shift()!;
      const { done, value } = await reader.read().catch(() => {
        throw new MultipartError({ reason: "malformed" });
      });
      if (done) break;
      read += value.byteLength;
      if (read > limits.bodyBytes) throw new MultipartError({ reason: "body_too_large" });
      await Promise.race([write(value), parts.failed]);
    }
    try {
      parser.end();
    } catch {
      parts.fail({ reason: "malformed" });
    }
    await Promise.race([parts.finished, parts.failed]);
    if (parts.failure) throw new MultipartError(parts.failure);
    while (parts.ready.length > 0) yield parts.ready.shift()!;
  } finally {
    parser?.destroy();
    // Stops the client's upload here: the bytes not read yet are never buffered.
    await reader.cancel().catch(() => undefined);
  }
}
