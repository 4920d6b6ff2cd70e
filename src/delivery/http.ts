import { DeliveryError } from "./errors";

const TIMEOUT_MS = 10_000;

/** POSTs to a provider; any network error, timeout or non-2xx answer is a DeliveryError. */
export async function providerPost(provider: string, url: string, init: RequestInit): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, method: "POST", signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    throw new DeliveryError(provider, err instanceof Error ? err.name : "network error");
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new DeliveryError(provider, `HTTP ${res.status}`);
  }
  return res;
}
