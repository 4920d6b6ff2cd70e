import type { Deps } from "../domain/deps";
import type { AccessClaims } from "../domain/tokens";
import type { User } from "../domain/access";

export type AppEnv = {
  Bindings: Env;
  /** `user`: the signed-in user as stored now, loaded by requireRole / requireKycApproved. */
  Variables: { deps: Deps; requestId: string; auth: AccessClaims; user: User };
};
