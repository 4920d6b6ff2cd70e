// The KYC submission form read as it streams in: files go to the submission one at a time, and
// anything outside the form's shape or limits stops the read at once (src/http/multipart-stream.ts).
import * as z from "zod";
import type { KycSubmission } from "../domain/kyc-submission";
import { DOCUMENT_TYPES, type DocumentKind, type DocumentType } from "../domain/kyc-values";
import { AppError, type FieldError } from "../errors";
import { MultipartError, streamMultipart, type FormShape, type MultipartFailure } from "./multipart-stream";

const SHAPE: FormShape = { document_type: "field", front: "file", back: "file", selfie: "file" };

const DocumentTypeField = z.enum(DOCUMENT_TYPES);

/** Longest text field kept: `document_type` is a short enum value. */
const FIELD_BYTES = 64;

/** Longest header block of one part; browsers send a few hundred bytes. */
const PART_HEADER_BYTES = 8 * 1024;

const PROBLEMS: Record<Extract<MultipartFailure, { reason: "unexpected_part" }>["problem"], string> = {
  unknown: "Unknown field",
  repeated: "Given more than once",
  file_expected: "Must be a file",
  text_expected: "Must be a text field",
};

/** The Content-Type to parse, or 400 unsupported_content_type for anything but multipart/form-data. */
export function multipartContentType(header: string | undefined): string {
  const mediaType = (header ?? "").split(";")[0]!.trim().toLowerCase();
  if (mediaType !== "multipart/form-data") {
    throw new AppError("unsupported_content_type", { detail: "Send the documents as multipart/form-data" });
  }
  return header!;
}

/**
 * Reads the form, handing each file to `submission` as soon as it has arrived whole, and returns
 * `document_type` once the body is read. A file over `maxFileBytes` is 400 invalid_document naming
 * it, as soon as it passes the limit; a body over `bodyBytes` (only possible without
 * Content-Length) is 413 payload_too_large; a malformed body, an unknown field, a field given twice
 * or in the wrong form, or a missing one is 400 validation_error.
 */
export async function readKycForm(
  body: ReadableStream<Uint8Array> | null,
  contentType: string,
  limits: { maxFileBytes: number; bodyBytes: number },
  submission: KycSubmission,
): Promise<DocumentType> {
  if (!body) throw new AppError("validation_error", { detail: "The multipart body is empty" });
  let documentType: DocumentType | undefined;
  let hasFront = false;
  const parts = streamMultipart(body, contentType, SHAPE, {
    fileBytes: limits.maxFileBytes,
    fieldBytes: FIELD_BYTES,
    headerBytes: PART_HEADER_BYTES,
    bodyBytes: limits.bodyBytes,
  });
  try {
    for await (const part of parts) {
      if (part.type === "field") {
        const parsed = DocumentTypeField.safeParse(part.value);
        if (!parsed.success) throw invalid([{ path: part.name, message: `Must be one of ${DOCUMENT_TYPES.join(", ")}` }]);
        documentType = parsed.data;
      } else {
        hasFront ||= part.name === "front";
        await submission.addFile({ kind: part.name as DocumentKind, chunks: part.chunks, size: part.size });
      }
    }
  } catch (err) {
    if (err instanceof MultipartError) throw refusal(err.failure, submission, limits.maxFileBytes);
    throw err;
  }
  const missing: FieldError[] = [];
  if (!documentType) missing.push({ path: "document_type", message: "Required" });
  if (!hasFront) missing.push({ path: "front", message: "Required" });
  if (missing.length > 0) throw invalid(missing);
  return documentType!;
}

function invalid(errors: FieldError[]): AppError {
  return new AppError("validation_error", { errors });
}

function refusal(failure: MultipartFailure, submission: KycSubmission, maxFileBytes: number): AppError {
  switch (failure.reason) {
    case "file_too_large":
      submission.refuse(failure.name, `The file is larger than ${maxFileBytes} bytes`);
      return new AppError("invalid_document", { errors: submission.errors });
    case "body_too_large":
      return new AppError("payload_too_large");
    case "unexpected_part":
      return invalid([{ path: failure.name, message: PROBLEMS[failure.problem] }]);
    case "field_too_large":
      return invalid([{ path: failure.name, message: "Too long" }]);
    case "too_many_parts":
      return new AppError("validation_error", { detail: "Too many parts" });
    case "malformed":
      return new AppError("validation_error", { detail: "The multipart body could not be read" });
  }
}
