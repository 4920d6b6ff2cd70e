import type { Deps } from "../domain/deps";
import type { AccessClaims } from "../domain/tokens";

export type AppEnv = {
  Bindings: Env;
  Variables: { deps: Deps; requestId: string; auth: AccessClaims };
};
