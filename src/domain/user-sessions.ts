import { listActiveSessions, type Session } from "../storage/sessions";
import type { Deps } from "./deps";

/** The user's sessions that are neither revoked nor expired, most recently used first. */
export function listSessions(deps: Deps, userId: string, now: number): Promise<Session[]> {
  return listActiveSessions(deps.db, userId, new Date(now));
}
