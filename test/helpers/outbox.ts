// The console delivery provider writes one `[delivery] {json}` line per message; tests read codes
// from it exactly as a person would read them from the server log.
import { vi } from "vitest";
import { pollUntil } from "./time";

export type Delivered = { channel: string; to: string; subject?: string; text: string };

const outbox: Delivered[] = [];
const realLog = console.log.bind(console);
vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
  const line = args.map(String).join(" ");
  if (line.startsWith("[delivery] ")) {
    outbox.push(JSON.parse(line.slice("[delivery] ".length)) as Delivered);
    return;
  }
  realLog(...args);
});

export function messagesTo(to: string): Delivered[] {
  return outbox.filter((m) => m.to === to);
}

export function lastCode(to: string): string {
  const msg = messagesTo(to).at(-1);
  const code = msg && /\b(\d{6})\b/.exec(msg.text)?.[1];
  if (!code) throw new Error(`no code delivered to ${to}`);
  return code;
}

/** The code in the last SMS to `phone` (E.164), read from the console provider's log line. */
export function lastSmsCode(phone: string): string {
  const msg = messagesTo(phone).filter((m) => m.channel === "sms").at(-1);
  const code = msg && /\b(\d{6})\b/.exec(msg.text)?.[1];
  if (!code) throw new Error(`no SMS code delivered to ${phone}`);
  return code;
}

export function lastLinkToken(to: string): string {
  const msg = messagesTo(to).at(-1);
  const token = msg && /[?&]token=([^\s&]+)/.exec(msg.text)?.[1];
  if (!token) throw new Error(`no link delivered to ${to}`);
  return decodeURIComponent(token);
}

/** Waits (up to ~2 s) until `count` messages reached `to`: some are sent after the response. */
export async function waitForMessages(to: string, count: number): Promise<Delivered[]> {
  return pollUntil(
    () => messagesTo(to),
    (messages) => messages.length >= count,
  );
}

/** A 6-digit code that is not `code`, varied by `i` so a burst is not 50 copies of one guess. */
export function wrongCode(code: string, i: number): string {
  return String((Number(code) + 1 + i) % 1_000_000).padStart(6, "0");
}
