import type { Deps } from "../domain/deps";
import type { AccessClaims } from "../domain/tokens";
import type { User } from "../storage/users";

export type AppEnv = {
  Bindings: Env;
  /** `user`: the signed-in user as stored now, loaded by requireRole / requireKycApproved. */
  Variables: { deps: Deps; requestId: string; auth: AccessClaims; user: User };
};
