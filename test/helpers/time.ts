// Waiting for work the Worker does after it answers, and reading time the way tokens carry it.

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reads until `done` holds, waiting 20 ms between reads at most `waits` times (2 s by default), and
 * returns the last read: for what is written after the response (audit rows, messages), so the
 * caller asserts on what it got.
 */
export async function pollUntil<T>(read: () => Promise<T> | T, done: (value: T) => boolean, waits = 100): Promise<T> {
  let value = await read();
  for (let i = 0; i < waits && !done(value); i++) {
    await pause(20);
    value = await read();
  }
  return value;
}

/** Now in whole seconds, as JWT `iat`/`exp` and webhook timestamps count it. */
export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The middle value (the upper one of an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
