import { DeliveryError } from "../delivery/errors";
import { AppError } from "../errors";
import type { Codes, Deps } from "./deps";

/**
 * Sends the message that carries a fresh code. If the provider fails, the send is undone in the
 * Durable Object (no usable code left, cooldown and counter given back) and the caller gets 502
 * `delivery_failed`.
 */
export async function deliverCode(
  subject: Codes,
  undo: { purpose: string; counter: string; dropRecord: boolean },
  send: () => Promise<void>,
): Promise<void> {
  try {
    await send();
  } catch (err) {
    await subject.undoSend(undo);
    if (err instanceof DeliveryError) {
      console.error(JSON.stringify({ level: "error", event: "delivery_failed", purpose: undo.purpose, reason: err.message }));
      throw new AppError("delivery_failed", { cause: err });
    }
    throw err;
  }
}

/**
 * For answers that must not reveal whether an account exists (resend, password reset): the message
 * goes out after the response, so success and failure look and take the same; a failure is logged
 * and undone.
 */
export function deliverCodeInBackground(
  defer: Deps["defer"],
  subject: Codes,
  undo: { purpose: string; counter: string; dropRecord: boolean },
  send: () => Promise<void>,
): void {
  defer(() => deliverCode(subject, undo, send).catch(() => undefined));
}
