import * as z from "zod";
import type { Device } from "../domain/session-tokens";

// The device a new session is bound to, as sign-in requests name it: `device_id` (refresh must send
// the same) and an optional `device_name` shown in the session list.

/** The device of a sign-in whose route lets the client leave `device_id` out. */
export const DEFAULT_DEVICE_ID = "default";

export const DeviceIdField = z.string().trim().min(1).max(200);
export const DeviceNameField = z.string().trim().max(200);

export function deviceOf(body: { device_id?: string; device_name?: string | null }): Device {
  return { deviceId: body.device_id ?? DEFAULT_DEVICE_ID, deviceName: body.device_name ?? null };
}
