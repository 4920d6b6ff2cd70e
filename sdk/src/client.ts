import { errorFrom } from "./errors";
import { sessionStore, type AuthListener, type Session } from "./session";
import { defaultStorage, KEYS, type AuthStorage } from "./storage";
import type { Body, Form, MfaChallenge, Method, Ok, Path, Query, TokenPair, User, WithDevice } from "./types";

export type AuthClientOptions = {
  /** The service's origin, e.g. `https://auth.example.com` (the client adds `/api/v1/...`). */
  baseUrl: string;
  /** Default: `localStorage` in browsers, memory elsewhere. */
  storage?: AuthStorage;
  fetch?: typeof fetch;
  /** A fixed device id; default: one generated once and kept in the storage. */
  deviceId?: string;
};

type Init = { body?: unknown; form?: FormData; query?: object; params?: Record<string, string>; auth?: boolean };
type KycFiles = Omit<Form<"/api/v1/kyc/submit", "post">, "front" | "back" | "selfie"> & { front: Blob; back?: Blob; selfie?: Blob };

/** D1 read replication: the answer's bookmark, sent back on the next request (docs/api.md). */
const BOOKMARK = "X-D1-Bookmark";

/** Access tokens with less than this left are refreshed before use. */
const REFRESH_MARGIN_MS = 60_000;

/**
 * How long before expiry a token is refreshed: a minute, or a quarter of its lifetime when that is
 * shorter, so that a service with very short tokens is not asked for a new pair on every call (each
 * needless rotation is one more chance for tabs to cross).
 */
function refreshMargin(s: Session): number {
  return s.obtained_at ? Math.min(REFRESH_MARGIN_MS, (s.expires_at - s.obtained_at) / 4) : REFRESH_MARGIN_MS;
}

export function createAuthClient(options: AuthClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, "");
  const storage = options.storage ?? defaultStorage();
  const raw: typeof fetch = options.fetch ?? ((input, init) => fetch(input, init));
  // The service reads from a nearby replica; the bookmark of the newest answer seen goes back with
  // each request to it, so this client always reads its own writes. Kept in memory only.
  let bookmark: string | null = null;
  const send: typeof fetch = async (input, init = {}) => {
    const ours = String(input instanceof Request ? input.url : input).startsWith(base);
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
    if (ours && bookmark) headers.set(BOOKMARK, bookmark);
    const res = await raw(input, { ...init, headers });
    const got = ours && res.headers.get(BOOKMARK);
    // Bookmarks sort oldest to newest; answers to concurrent calls may arrive in any order.
    if (got && (!bookmark || got > bookmark)) bookmark = got;
    return res;
  };

  async function api<T>(method: Method, path: Path, init: Init = {}): Promise<T> {
    const params = init.params ?? {};
    let url = base + path.replace(/\{(\w+)\}/g, (_, key: string) => encodeURIComponent(params[key] ?? ""));
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(init.query ?? {})) if (value != null) query.set(key, String(value));
    if (`${query}`) url += `?${query}`;
    const json = init.body !== undefined;
    const request: RequestInit = {
      method: method.toUpperCase(),
      headers: json ? { "Content-Type": "application/json" } : {},
      body: json ? JSON.stringify(init.body) : init.form,
    };
    const res = await (init.auth ? authFetch : send)(url, request);
    if (!res.ok) throw await errorFrom(res);
    return (res.status === 204 ? undefined : res.headers.get("Content-Type")?.includes("json") ? res.json() : res.blob()) as T;
  }

  const call =
    <P extends Path, M extends Method>(method: M, path: P, auth = false) =>
    (init: Omit<Init, "auth"> = {}) =>
      api<Ok<P, M>>(method, path, { ...init, auth });

  const logoutToken = (refresh_token: string) => call("post", "/api/v1/auth/logout")({ body: { refresh_token } });

  const store = sessionStore(
    storage,
    async (s) => call("post", "/api/v1/auth/refresh")({ body: { refresh_token: s.refresh_token, device_id: await deviceId() } }),
    logoutToken,
  );

  let device: Promise<string> | undefined;
  function deviceId(): Promise<string> {
    return (device ??= (async () => {
      if (options.deviceId) return options.deviceId;
      const kept = await storage.getItem(KEYS.deviceId);
      if (kept) return kept;
      const id = crypto.randomUUID();
      await storage.setItem(KEYS.deviceId, id);
      return id;
    })());
  }

  /** The app's own calls: the Bearer token, a refresh shortly before expiry, one retry after a 401. */
  async function authFetch(input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
    let s = await store.read();
    if (s && s.expires_at - Date.now() < refreshMargin(s)) s = await store.refresh(s.refresh_token);
    const attempt = (session: Session | null) => {
      const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
      if (session) headers.set("Authorization", `Bearer ${session.access_token}`);
      return send(input, { ...init, headers });
    };
    const res = await attempt(s);
    // A stream cannot be sent twice (nor a Request's own body).
    const replayable = !(init.body instanceof ReadableStream) && !(input instanceof Request && input.body);
    if (!s || !replayable || res.status !== 401 || !/invalid_token/.test(res.headers.get("WWW-Authenticate") ?? "")) return res;
    const next = await store.refresh(s.refresh_token);
    return next && next.access_token !== s.access_token ? attempt(next) : res;
  }

  /** Every sign-in answer: tokens (stored, SIGNED_IN) or a second-factor challenge (MFA_REQUIRED). */
  async function signIn<T extends object>(answer: Promise<T>): Promise<T> {
    const r = await answer;
    if ("mfa_required" in r && (r as unknown as MfaChallenge).mfa_required) store.emit("MFA_REQUIRED", null);
    else await store.set(r as unknown as TokenPair);
    return r;
  }

  const withDevice = async <B extends object>(body: B) => ({ device_id: await deviceId(), ...body });

  async function deviceTokens(): Promise<Record<string, string>> {
    return JSON.parse((await storage.getItem(KEYS.deviceTokens)) ?? "{}") as Record<string, string>;
  }

  return {
    fetch: authFetch,
    getSession: () => store.read(),
    /** Tokens obtained elsewhere (a native flow, a test): stored, and SIGNED_IN is emitted. */
    setSession: (tokens: TokenPair & { user?: User }) => store.set(tokens),
    onAuthStateChange: (cb: AuthListener) => store.on(cb),
    deviceId,

    register: (body: Body<"/api/v1/auth/register", "post">) => call("post", "/api/v1/auth/register")({ body }),
    verifyEmail: async (body: WithDevice<Body<"/api/v1/auth/verify-email", "post">>) =>
      signIn(call("post", "/api/v1/auth/verify-email")({ body: await withDevice(body) })),
    lookupVerificationLink: (token: string) => call("get", "/api/v1/auth/verify")({ query: { token } }),
    verifyLink: async (body: WithDevice<Body<"/api/v1/auth/verify", "post">>) =>
      signIn(call("post", "/api/v1/auth/verify")({ body: await withDevice(body) })),
    resendVerification: (body: Body<"/api/v1/auth/resend-verification", "post">) =>
      call("post", "/api/v1/auth/resend-verification")({ body }),
    /** Sends back the `device_token` this device got at its last sign-in to the account, and keeps the new one. */
    async login(body: WithDevice<Body<"/api/v1/auth/login", "post">>) {
      const key = body.email.toLowerCase();
      const kept = await deviceTokens();
      const r = await signIn(call("post", "/api/v1/auth/login")({ body: await withDevice({ device_token: kept[key], ...body }) }));
      if ("device_token" in r && r.device_token) await storage.setItem(KEYS.deviceTokens, JSON.stringify({ ...(await deviceTokens()), [key]: r.device_token }));
      return r;
    },
    /** A refresh now (the client also refreshes by itself); null when signed out. */
    refresh: async () => store.refresh(),
    /** Ends this session on the server and in every tab; waits for a refresh in flight first. */
    async logout() {
      await store.settled();
      const s = await store.read();
      await store.clear();
      if (s) await logoutToken(s.refresh_token);
    },
    async logoutAll() {
      const r = await call("post", "/api/v1/auth/logout-all", true)();
      await store.clear();
      return r;
    },
    sessions: () => call("get", "/api/v1/auth/sessions", true)(),
    revokeSession: (id: string) => call("delete", "/api/v1/auth/sessions/{id}", true)({ params: { id } }),
    requestPasswordReset: (body: Body<"/api/v1/auth/password-reset/request", "post">) =>
      call("post", "/api/v1/auth/password-reset/request")({ body }),
    confirmPasswordReset: (body: Body<"/api/v1/auth/password-reset/confirm", "post">) =>
      call("post", "/api/v1/auth/password-reset/confirm")({ body }),
    /**
     * Proves who the user is again (password or authenticator code) for the routes that need a recent
     * sign-in: the new access token replaces the current one (the refresh token stays; TOKEN_REFRESHED).
     */
    async reauthenticate(body: Body<"/api/v1/auth/reauthenticate", "post">) {
      // A refresh in flight would write its pair after ours: let it finish first.
      await store.settled();
      const r = await call("post", "/api/v1/auth/reauthenticate", true)({ body });
      await store.adoptAccess(r);
      return r;
    },
    changePassword: (body: Body<"/api/v1/auth/password/change", "post">) => call("post", "/api/v1/auth/password/change", true)({ body }),
    /** Sends a code to a new address (or a phone user's unverified one); needs a recent sign-in. Nothing changes until confirmEmailChange. */
    changeEmail: (body: Body<"/api/v1/users/me/email", "post">) => call("post", "/api/v1/users/me/email", true)({ body }),
    confirmEmailChange: (body: Body<"/api/v1/users/me/email/confirm", "post">) =>
      call("post", "/api/v1/users/me/email/confirm", true)({ body }),
    /** Sends an SMS code to a number to add or change to; confirmPhoneChange makes it the user's, proved. */
    changePhone: (body: Body<"/api/v1/users/me/phone", "post">) => call("post", "/api/v1/users/me/phone", true)({ body }),
    confirmPhoneChange: (body: Body<"/api/v1/users/me/phone/confirm", "post">) =>
      call("post", "/api/v1/users/me/phone/confirm", true)({ body }),
    /** A first password for an account that has none (phone, Google, passkey sign-ups); needs a recent sign-in. */
    setPassword: (body: Body<"/api/v1/users/me/password", "post">) => call("post", "/api/v1/users/me/password", true)({ body }),
    sendPhoneOtp: (body: Body<"/api/v1/auth/phone/send-otp", "post">) => call("post", "/api/v1/auth/phone/send-otp")({ body }),
    verifyPhoneOtp: async (body: WithDevice<Body<"/api/v1/auth/phone/verify-otp", "post">>) =>
      signIn(call("post", "/api/v1/auth/phone/verify-otp")({ body: await withDevice(body) })),
    /** Emails a sign-in code if the address belongs to an account with a verified email (the same 202 either way). */
    sendEmailCode: (body: Body<"/api/v1/auth/email/send-code", "post">) => call("post", "/api/v1/auth/email/send-code")({ body }),
    verifyEmailCode: async (body: WithDevice<Body<"/api/v1/auth/email/verify-code", "post">>) =>
      signIn(call("post", "/api/v1/auth/email/verify-code")({ body: await withDevice(body) })),
    googleSignIn: async (body: WithDevice<Body<"/api/v1/auth/google", "post">>) =>
      signIn(call("post", "/api/v1/auth/google")({ body: await withDevice(body) })),
    /**
     * The URL that starts Google's browser flow (navigate to it; the callback page then calls
     * googleExchange). `role` is used only if the sign-in creates the account.
     */
    googleStartUrl: async (redirectUri?: string, options: { role?: Query<"/api/v1/auth/google/start", "get">["role"] } = {}) => {
      const q = new URLSearchParams({
        device_id: await deviceId(),
        ...(redirectUri ? { redirect_uri: redirectUri } : {}),
        ...(options.role ? { role: options.role } : {}),
      });
      return `${base}/api/v1/auth/google/start?${q}`;
    },
    googleExchange: async (body: WithDevice<Body<"/api/v1/auth/google/exchange", "post">>) =>
      signIn(call("post", "/api/v1/auth/google/exchange")({ body: await withDevice(body) })),
    /** Finishes a sign-in that answered MFA_REQUIRED; the tokens are stored (SIGNED_IN). */
    verifyMfa: (body: Body<"/api/v1/auth/mfa/verify", "post">) => signIn(call("post", "/api/v1/auth/mfa/verify")({ body })),
    mfaStatus: () => call("get", "/api/v1/users/me/mfa", true)(),
    /** The secret, otpauth URI and QR code; inactive until confirmTotp. */
    enrollTotp: () => call("post", "/api/v1/users/me/mfa/totp", true)(),
    confirmTotp: (body: Body<"/api/v1/users/me/mfa/totp/confirm", "post">) =>
      call("post", "/api/v1/users/me/mfa/totp/confirm", true)({ body }),
    disableTotp: () => call("delete", "/api/v1/users/me/mfa/totp", true)(),
    regenerateRecoveryCodes: () => call("post", "/api/v1/users/me/mfa/recovery-codes", true)(),
    /** Request options for finishing a sign-in (MFA_REQUIRED) with one of the user's passkeys; answer with verifyMfa. */
    mfaPasskeyOptions: (body: Body<"/api/v1/auth/mfa/passkey/options", "post">) =>
      call("post", "/api/v1/auth/mfa/passkey/options")({ body }),
    /** Creation options for navigator.credentials.create(); send its answer to addPasskey. */
    passkeyRegistrationOptions: () => call("post", "/api/v1/users/me/passkeys/options", true)(),
    addPasskey: (body: Body<"/api/v1/users/me/passkeys", "post">) => call("post", "/api/v1/users/me/passkeys", true)({ body }),
    passkeys: () => call("get", "/api/v1/users/me/passkeys", true)(),
    renamePasskey: (id: string, body: Body<"/api/v1/users/me/passkeys/{id}", "patch">) =>
      call("patch", "/api/v1/users/me/passkeys/{id}", true)({ params: { id }, body }),
    deletePasskey: (id: string) => call("delete", "/api/v1/users/me/passkeys/{id}", true)({ params: { id } }),
    /** Request options (and challenge_id) for a passkey sign-in with no username typed. */
    passkeySignInOptions: () => call("post", "/api/v1/auth/passkey/options")(),
    /** Signs in with the answer of navigator.credentials.get(); the tokens are stored (SIGNED_IN) or MFA_REQUIRED. */
    passkeySignIn: async (body: WithDevice<Body<"/api/v1/auth/passkey/verify", "post">>) =>
      signIn(call("post", "/api/v1/auth/passkey/verify")({ body: await withDevice(body) })),
    /** Request options (and challenge_id) for a step-up with one of the user's passkeys. */
    reauthenticateOptions: () => call("post", "/api/v1/auth/reauthenticate/options", true)(),
    me: () => call("get", "/api/v1/users/me", true)(),
    /** Everything the service holds about the user; each KYC file as a `download_url` that works for 10 minutes. */
    exportAccount: () => call("get", "/api/v1/users/me/export", true)(),
    /** A file of the export by its `download_url` (the link is the permission: no token is sent). */
    async downloadExportedDocument(downloadUrl: string): Promise<Blob> {
      const res = await send(downloadUrl, { method: "GET" });
      if (!res.ok) throw await errorFrom(res);
      return res.blob();
    },
    /** Every way the user can sign in (password, email_code, phone, google, passkey), without secrets. */
    identities: () => call("get", "/api/v1/users/me/identities", true)(),
    /** Links the Google account an ID token proves (needs a recent sign-in); again for the same account changes nothing. */
    linkGoogle: (body: Body<"/api/v1/users/me/identities/google", "post">) =>
      call("post", "/api/v1/users/me/identities/google", true)({ body }),
    /** Removes a way in (needs a recent sign-in); 409 last_sign_in_method for the last one. */
    unlinkIdentity: (type: "google" | "phone" | "password") =>
      call("delete", "/api/v1/users/me/identities/{type}", true)({ params: { type } }),
    updateProfile: (body: Body<"/api/v1/users/me", "patch">) => call("patch", "/api/v1/users/me", true)({ body }),
    /**
     * Deletes the signed-in user's account (needs a recent sign-in: reauthenticate first on 403
     * reauthentication_required); the local session is cleared (SIGNED_OUT). Nothing is cleared when
     * the server refuses.
     */
    async deleteAccount() {
      await store.settled();
      const r = await call("delete", "/api/v1/users/me", true)();
      await store.clear();
      return r;
    },
    submitKyc(files: KycFiles) {
      const form = new FormData();
      for (const [name, value] of Object.entries(files)) if (value != null) form.append(name, value as Blob | string);
      return call("post", "/api/v1/kyc/submit", true)({ form });
    },
    kycStatus: () => call("get", "/api/v1/kyc/status", true)(),
    admin: {
      users: (query: Query<"/api/v1/admin/users", "get"> = {}) => call("get", "/api/v1/admin/users", true)({ query }),
      updateUser: (id: string, body: Body<"/api/v1/admin/users/{id}", "patch">) =>
        call("patch", "/api/v1/admin/users/{id}", true)({ params: { id }, body }),
      revokeSessions: (id: string) => call("post", "/api/v1/admin/users/{id}/revoke-sessions", true)({ params: { id } }),
      resetMfa: (id: string) => call("post", "/api/v1/admin/users/{id}/mfa/reset", true)({ params: { id } }),
      /** Deletes a user's account, erased as deleteAccount() erases one's own; audited. */
      deleteUser: (id: string) => call("delete", "/api/v1/admin/users/{id}", true)({ params: { id } }),
      kyc: (query: Query<"/api/v1/admin/kyc", "get"> = {}) => call("get", "/api/v1/admin/kyc", true)({ query }),
      kycApplication: (id: string) => call("get", "/api/v1/admin/kyc/{id}", true)({ params: { id } }),
      /** The document's bytes, with their checked content type. */
      kycDocument: (id: string, docId: string) =>
        api<Blob>("get", "/api/v1/admin/kyc/{id}/documents/{doc_id}", { params: { id, doc_id: docId }, auth: true }),
      approveKyc: (id: string) => call("post", "/api/v1/admin/kyc/{id}/approve", true)({ params: { id } }),
      rejectKyc: (id: string, body: Body<"/api/v1/admin/kyc/{id}/reject", "post">) =>
        call("post", "/api/v1/admin/kyc/{id}/reject", true)({ params: { id }, body }),
      audit: (query: Query<"/api/v1/admin/audit", "get"> = {}) => call("get", "/api/v1/admin/audit", true)({ query }),
    },
  };
}

export type AuthClient = ReturnType<typeof createAuthClient>;
