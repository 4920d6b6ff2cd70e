import type { Hono } from "hono";
import type { AppEnv } from "./http/app-env";

// The API's routes under /api/v1, in groups by their first path segment. A group's modules are
// reached only through import(): esbuild wraps such a module so that its top level (the zod
// schemas, the sub-app) runs on the first import, so an isolate builds a group on the first
// request under its prefix instead of at startup (issue 15, startup CPU).

type Routes = Hono<AppEnv>;

export const API_GROUPS = ["auth", "users", "kyc", "admin", "provider"] as const;
export type ApiGroup = (typeof API_GROUPS)[number];

/** Every sub-app of /api/v1 in mount order: the order of the routes and of the OpenAPI document. */
const MOUNTS: ReadonlyArray<{ at: string; routes: () => Promise<Routes> }> = [
  { at: "/auth", routes: () => import("./routes/auth").then((m) => m.authRoutes) },
  { at: "/auth", routes: () => import("./routes/sessions").then((m) => m.sessionRoutes) },
  { at: "/auth", routes: () => import("./routes/google").then((m) => m.googleRoutes) },
  { at: "/auth", routes: () => import("./routes/phone").then((m) => m.phoneRoutes) },
  { at: "/auth", routes: () => import("./routes/email-code").then((m) => m.emailCodeRoutes) },
  { at: "/auth", routes: () => import("./routes/password").then((m) => m.passwordRoutes) },
  { at: "/auth", routes: () => import("./routes/mfa").then((m) => m.mfaAuthRoutes) },
  { at: "/auth", routes: () => import("./routes/passkeys").then((m) => m.passkeyAuthRoutes) },
  { at: "/auth", routes: () => import("./routes/reauthenticate").then((m) => m.reauthRoutes) },
  { at: "/users", routes: () => import("./routes/users").then((m) => m.userRoutes) },
  { at: "/users", routes: () => import("./routes/mfa").then((m) => m.mfaUserRoutes) },
  { at: "/users", routes: () => import("./routes/passkeys").then((m) => m.passkeyUserRoutes) },
  { at: "/users", routes: () => import("./routes/account-export").then((m) => m.accountExportRoutes) },
  { at: "/users", routes: () => import("./routes/identities").then((m) => m.identityRoutes) },
  { at: "/users", routes: () => import("./routes/account-changes").then((m) => m.accountChangeRoutes) },
  { at: "/kyc", routes: () => import("./routes/kyc").then((m) => m.kycRoutes) },
  { at: "/admin/kyc", routes: () => import("./routes/admin-kyc").then((m) => m.adminKycRoutes) },
  { at: "/provider", routes: () => import("./routes/kyc").then((m) => m.providerRoutes) },
  { at: "/admin", routes: () => import("./routes/admin").then((m) => m.adminRoutes) },
  { at: "/users", routes: () => import("./routes/account-deletion").then((m) => m.accountDeletionRoutes) },
  { at: "/admin", routes: () => import("./routes/account-deletion").then((m) => m.adminDeletionRoutes) },
];

const groupOf = (at: string) => at.split("/")[1] as ApiGroup;

const built = new Map<(typeof MOUNTS)[number], Routes>();
const loading = new Map<ApiGroup, Promise<void>>();
let generation = 0;

/** Imports a group's modules once; resolves when all its sub-apps are built. */
export function loadApiGroup(group: ApiGroup): Promise<void> {
  let done = loading.get(group);
  if (!done) {
    const mounts = MOUNTS.filter((m) => groupOf(m.at) === group);
    done = Promise.all(mounts.map((m) => m.routes())).then(
      (routes) => {
        mounts.forEach((m, i) => built.set(m, routes[i]!));
        generation++;
      },
      (err: unknown) => {
        loading.delete(group); // a later request tries again
        throw err;
      },
    );
    loading.set(group, done);
  }
  return done;
}

export function isApiGroupLoaded(group: ApiGroup): boolean {
  return MOUNTS.every((m) => groupOf(m.at) !== group || built.has(m));
}

/** Changes each time a group has been built: an app made from the groups before it is out of date. */
export function apiGeneration(): number {
  return generation;
}

/** The groups built so far in this isolate (for tests). */
export function loadedApiGroups(): ApiGroup[] {
  return API_GROUPS.filter(isApiGroupLoaded);
}

/** Mounts the sub-apps of the groups built so far on `api`, in MOUNTS order. */
export function mountLoaded(api: Routes): Routes {
  for (const m of MOUNTS) {
    const routes = built.get(m);
    if (routes) api.route(m.at, routes);
  }
  return api;
}
