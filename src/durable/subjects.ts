import type { Subjects } from "../domain/deps";
import type { SubjectStore } from "./subject-store";

/**
 * The one place a SubjectStore is named: `user:<id>`, `email:<address>`, `phone:<E.164>`,
 * `ip:<address>`, `webauthn:<challenge id>`.
 */
export function subjectsOf(namespace: DurableObjectNamespace<SubjectStore>): Subjects {
  const named = (name: string) => namespace.get(namespace.idFromName(name));
  return {
    user: (userId) => named(`user:${userId}`),
    email: (address) => named(`email:${address}`),
    phone: (e164) => named(`phone:${e164}`),
    ip: (address) => named(`ip:${address}`),
    webauthn: (challengeId) => named(`webauthn:${challengeId}`),
  };
}
