/**
 * Where the client keeps the session, the device id and device tokens. `localStorage` fits it as it
 * is, and so does React Native's AsyncStorage (promises); SecureStore fits through
 * `{ getItem: SecureStore.getItemAsync, setItem: SecureStore.setItemAsync, removeItem: SecureStore.deleteItemAsync }`.
 */
export interface AuthStorage {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
}

export function memoryStorage(): AuthStorage {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
  };
}

/** The browser's `localStorage` where there is one (shared by the tabs of an origin), else memory. */
export function defaultStorage(): AuthStorage {
  try {
    const local = (globalThis as { localStorage?: AuthStorage }).localStorage;
    if (local) return local;
  } catch {
    // A sandboxed frame throws on access: memory still works.
  }
  return memoryStorage();
}

export const KEYS = {
  session: "edge-auth.session",
  deviceId: "edge-auth.device_id",
  deviceTokens: "edge-auth.device_tokens",
} as const;
