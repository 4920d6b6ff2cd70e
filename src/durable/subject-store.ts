import { DurableObject } from "cloudflare:workers";
import { loadConfig } from "../config";
import { database } from "../storage/db";
import { kvKeys, kvTtl } from "../storage/kv-keys";
import type { AuditRecord } from "../storage/audit";
import type { OpenedSession } from "../storage/sessions";
import { CodeStore, type PutCodeInput } from "./code-store";
import { flushOutbox, SessionOutbox, type PendingProjection } from "./session-projection";
import { hasTables, holdsNothing, nextExpiry, upgradeSchema } from "./subject-storage";
import {
  SUBJECT_SCHEMA,
  resendCooldownName,
  type CodeResult,
  type CooldownResult,
  type LimitInput,
  type LinkLookup,
  type ReauthResult,
  type RotateResult,
  type SessionAuth,
} from "./subject-types";
import { LimitStore } from "./limit-store";
import { LoginThrottle, type LoginAttemptInput } from "./login-throttle";
import { RefreshStore, type RotateInput } from "./refresh-store";
import { SecondStepStore, type AttemptResult, type BeginAttemptInput, type FinishResult } from "./second-step-store";
import {
  WebAuthnChallengeStore,
  type PutChallengeInput,
  type TakeChallengeInput,
  type TakenChallenge,
} from "./webauthn-challenge-store";

export { resendCooldownName, type CodeResult, type CooldownResult, type LimitInput, type RotateResult };

const KYC_UPLOAD_SLOT = "kyc-upload";

/**
 * The store of one subject whose state must change atomically: a user (`user:<id>`), an email
 * address (`email:<address>`), a phone number (`phone:<E.164>`), a client address (`ip:<address>`)
 * or one discoverable passkey sign-in (`webauthn:<challenge id>`, its challenge only).
 * A user's object is the truth for their sessions and refresh-token chains (rotation with reuse
 * detection, revocation, deactivation) and their one KYC upload in flight, and the only writer of
 * their D1 `sessions` rows, a projection for listing (src/durable/session-projection.ts); every
 * subject's object holds its one-time codes with their miss counters, cooldowns, rate-limit counters and the login
 * throttle (with its per-device budgets). Every public method is an RPC entry point; each does its
 * read-check-write synchronously (the stores never await) before any I/O.
 *
 * Storage is made on the first write only: a lookup that finds nothing (a refresh token with a
 * made-up user id, a code for nobody) leaves no database behind. Every row expires, and an object
 * left with nothing deletes its storage from its alarm.
 */
export class SubjectStore extends DurableObject<Env> {
  #refresh: RefreshStore;
  #codes: CodeStore;
  #limits: LimitStore;
  #logins: LoginThrottle;
  #outbox: SessionOutbox;
  #secondStep: SecondStepStore;
  #webauthn: WebAuthnChallengeStore;
  /** Whether the tables exist; reads on an object without them answer "nothing" and create none. */
  #stored: boolean;
  /** When the alarm is set for, as this object last set or read it; undefined until it has. */
  #alarmAt: number | null | undefined;
  /** The account's disabled flag (its `meta` row), read once per start and kept with every change. */
  #disabledFlag: boolean | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    this.#stored = hasTables(sql);
    // An object made by an earlier version gets the tables and columns added since.
    if (this.#stored) upgradeSchema(sql);
    const schedule = (at: number) => this.#scheduleCleanup(at);
    this.#refresh = new RefreshStore(sql, schedule);
    this.#limits = new LimitStore(sql, schedule);
    this.#logins = new LoginThrottle(sql, schedule);
    this.#codes = new CodeStore(sql, this.#limits, schedule);
    this.#outbox = new SessionOutbox(sql, schedule);
    this.#secondStep = new SecondStepStore(sql, this.#limits, schedule);
    this.#webauthn = new WebAuthnChallengeStore(sql, schedule);
  }

  // ---- sessions and refresh tokens -------------------------------------------------------------

  /**
   * Opens a session, unless the account was disabled here (closes the race with a deactivation), and
   * lists it in D1 before answering: a session its owner cannot see in the list is never handed out.
   * `unlisted`: D1 refused the row; the session was ended here and nobody holds its tokens.
   */
  async createSession(input: {
    userId: string; sessionId: string; tokenHash: string; expiresAt: number; now: number;
    deviceId: string; deviceName: string | null; userAgent: string | null; ip: string | null;
    /** A right password's attempt, settled on this user's login throttle first (POST /auth/login). */
    login?: LoginAttemptInput;
    /** The sign-in's audit row, written to D1 in the batch that lists the session. */
    audit?: AuditRecord;
  } & SessionAuth): Promise<
    | { ok: true; jti: string; iat: number }
    | { ok: false; reason: "disabled" | "unlisted" }
    | { ok: false; reason: "throttled"; retryAfterMs: number }
  > {
    this.#writable();
    if (input.login) {
      const slot = this.#logins.settle({ ...input.login, passed: true });
      if (!slot.ok) return { ok: false, reason: "throttled", retryAfterMs: slot.retryAfterMs };
    }
    if (this.#disabled()) return { ok: false, reason: "disabled" };
    const issued = this.#refresh.create(input);
    const { userId, sessionId, now } = input;
    const row: OpenedSession = {
      deviceId: input.deviceId, deviceName: input.deviceName, userAgent: input.userAgent, ip: input.ip,
      createdAt: now, expiresAt: input.expiresAt, ...(input.audit ? { audit: input.audit } : {}),
    };
    const entry = this.#outbox.opened(userId, sessionId, row, Date.now());
    if (!(await this.#project([entry]))) {
      // Its access token was never signed, so only the list needs to learn it ended: the alarm retries,
      // without the sign-in's audit row (the sign-in failed).
      this.#outbox.revoked(userId, [{ id: sessionId, expiresAt: input.expiresAt }], now, Date.now());
      this.#outbox.dropAudit(sessionId);
      this.#refresh.markRevoked([sessionId], now);
      return { ok: false, reason: "unlisted" };
    }
    // Deactivated while D1 was written: setActive has revoked this session with the others.
    if (this.#disabled()) return { ok: false, reason: "disabled" };
    return { ok: true, ...issued };
  }

  /**
   * Deactivation: from now on no session opens, and every open one is revoked, in one step, so a
   * sign-in that read the user just before cannot slip a session past it.
   */
  async setActive(input: { userId: string; active: boolean; now: number }): Promise<{ revoked: string[] }> {
    if (input.active) {
      if (!this.#stored) return { revoked: [] };
      this.ctx.storage.sql.exec(`DELETE FROM meta WHERE key = 'disabled'`);
      this.#disabledFlag = false;
      // The flag was lasting state; without it the object may now hold nothing.
      this.#scheduleCleanup(input.now);
      return { revoked: [] };
    }
    this.#writable();
    this.ctx.storage.sql.exec(`INSERT OR REPLACE INTO meta (key, value) VALUES ('disabled', '1')`);
    this.#disabledFlag = true;
    return this.#revoke(input.userId, this.#refresh.activeIds(input.now), input.now);
  }

  /** Rotates a refresh token in one step; a reused one revokes its session (RFC 9700 §4.14). */
  async rotateRefresh(input: RotateInput & { userId: string }): Promise<RotateResult> {
    if (!this.#stored) return { ok: false, reason: "invalid" };
    const { revoked, touch, ...result } = this.#refresh.rotate(input);
    if (revoked) await this.#propagateRevocation(input.userId, revoked, input.now);
    if (touch && result.ok) {
      this.#outbox.touched(input.userId, input.sessionId, input.now, result.expiresAt, Date.now());
      // The answer does not wait for the list: the alarm writes what this does not.
      void this.#project([input.sessionId]);
    }
    return result as RotateResult;
  }

  /** Records a reauthentication on an open session: its auth_time and amr from now on. */
  async reauthenticateSession(input: { sessionId: string; now: number } & SessionAuth): Promise<ReauthResult> {
    if (!this.#stored) return { ok: false, reason: "ended" };
    return this.#refresh.reauthenticate(input);
  }

  /** Revokes the session a refresh token (current, previous or spent) belongs to. Idempotent. */
  async revokeByToken(input: { userId: string; presentedHash: string; now: number }): Promise<{ revoked: string[] }> {
    if (!this.#stored) return { revoked: [] };
    const id = this.#refresh.sessionOfToken(input.presentedHash);
    if (!id) return { revoked: [] };
    return this.#revoke(input.userId, [id], input.now);
  }

  /**
   * Revokes the given sessions, or every active one (but `exceptId`) when `ids` is null. Named
   * sessions are stamped in the list even when they had already ended here (or were never held):
   * a row D1 still shows as open is what the user asked to end.
   */
  async revokeSessions(input: { userId: string; ids: string[] | null; now: number; exceptId?: string }): Promise<{ revoked: string[] }> {
    if (input.ids === null) {
      if (!this.#stored) return { revoked: [] };
      return this.#revoke(input.userId, this.#refresh.activeIds(input.now).filter((id) => id !== input.exceptId), input.now);
    }
    this.#writable();
    return this.#revoke(input.userId, input.ids, input.now, input.ids);
  }

  // ---- one-time codes ---------------------------------------------------------------------------

  async putCode(input: PutCodeInput) {
    this.#writable();
    return this.#codes.put(input);
  }

  async renewCode(input: Parameters<CodeStore["renew"]>[0]) {
    if (!this.#stored) return null;
    return this.#codes.renew(input);
  }

  async verifyCode(input: { purpose: string; codeHmac: string; now: number; maxAttempts: number; claimMs?: number }): Promise<CodeResult> {
    if (!this.#stored) return { ok: false, reason: "invalid" };
    return this.#codes.verifyCode(input);
  }

  async verifyLink(input: { purpose: string; linkHash: string; now: number; claimMs?: number }): Promise<CodeResult> {
    if (!this.#stored) return { ok: false, reason: "invalid" };
    return this.#codes.verifyLink(input);
  }

  async lookupLink(input: { purpose: string; linkHash: string; now: number }): Promise<LinkLookup> {
    if (!this.#stored) return { ok: false };
    return this.#codes.lookupLink(input);
  }

  async beginLinkAttempt(input: { purpose: string; linkHash: string; now: number; maxAttempts: number }): Promise<CodeResult> {
    if (!this.#stored) return { ok: false, reason: "invalid" };
    return this.#codes.beginLinkAttempt(input);
  }

  async settleClaim(input: { purpose: string; consumed: boolean }): Promise<void> {
    if (!this.#stored) return;
    this.#codes.settleClaim(input);
  }

  /**
   * Undoes a send whose message could not be delivered: no usable code is left, and the cooldown
   * and send counter it took are given back.
   */
  async undoSend(input: { purpose: string; counter: string; dropRecord: boolean }): Promise<void> {
    if (!this.#stored) return;
    this.#codes.discard(input.purpose, input.dropRecord);
    this.#limits.endCooldown(resendCooldownName(input.purpose));
    this.#limits.uncount(input.counter);
  }

  // ---- limits ----------------------------------------------------------------------------------

  async claimCooldown(input: { name: string; now: number; ms: number }): Promise<CooldownResult> {
    this.#writable();
    return this.#limits.claimCooldown(input);
  }

  /** Counts one event against a fixed-window limit, exactly under concurrency. */
  async hit(input: LimitInput): Promise<CooldownResult> {
    this.#writable();
    return this.#limits.count(input);
  }

  async beginLogin(input: LoginAttemptInput): Promise<CooldownResult> {
    // Unknown addresses are counted too (else a lock would tell which exist); the rows expire.
    this.#writable();
    return this.#logins.begin(input);
  }

  /**
   * POST /auth/login's one call to the throttle when no session or challenge opens, made after the
   * hash: counted like `beginLogin`, cleared like `loginSucceeded` when allowed and right
   * (src/durable/login-throttle.ts). A right password that opens one settles in that call instead.
   */
  async settleLogin(input: LoginAttemptInput & { passed: boolean }): Promise<CooldownResult> {
    this.#writable();
    return this.#logins.settle(input);
  }

  /** A correct password: its budget starts afresh (every budget when none is named). */
  async loginSucceeded(input: { budget?: string } = {}): Promise<void> {
    if (!this.#stored) return;
    this.#logins.clear(input.budget);
  }

  // ---- the second step of a sign-in (src/durable/second-step-store.ts) ---------------------------

  /** `login`: a right password's attempt, settled on this user's login throttle first, as createSession does. */
  async openMfaChallenge(input: {
    tokenHash: string; payload: string; now: number; ttlMs: number; login?: LoginAttemptInput;
  }): Promise<CooldownResult> {
    this.#writable();
    if (input.login) {
      const slot = this.#logins.settle({ ...input.login, passed: true });
      if (!slot.ok) return slot;
    }
    this.#secondStep.open(input);
    return { ok: true };
  }

  async beginMfaAttempt(input: BeginAttemptInput): Promise<AttemptResult> {
    if (!this.#stored) return { ok: false, reason: "invalid" };
    return this.#secondStep.begin(input);
  }

  async finishMfaChallenge(input: { tokenHash: string; now: number; totpStep?: number }): Promise<FinishResult> {
    if (!this.#stored) return { ok: false, reason: "invalid" };
    return this.#secondStep.finish(input);
  }

  /** A TOTP code checked outside a challenge (enrolment, step-up): its step is spent here too. */
  async acceptTotpStep(input: { step: number; now: number }): Promise<{ ok: boolean }> {
    this.#writable();
    return { ok: this.#secondStep.acceptStep(input.step, input.now) };
  }

  /** Takes one attempt of the user's second-step budget for a step-up code, before it is checked. */
  async beginStepUpAttempt(input: { now: number; userLimit: { count: number; windowMs: number } }): Promise<CooldownResult> {
    this.#writable();
    return this.#secondStep.beginStepUp(input);
  }

  /** A right step-up TOTP code: its step is spent here (no replay) and its attempt given back. */
  async finishStepUpTotp(input: { step: number; now: number }): Promise<{ ok: boolean }> {
    this.#writable();
    return { ok: this.#secondStep.finishStepUp(input.step, input.now) };
  }

  async clearSecondStep(): Promise<void> {
    if (!this.#stored) return;
    this.#secondStep.clear();
    this.#webauthn.clear();
  }

  // ---- WebAuthn challenges (src/durable/webauthn-challenge-store.ts) -----------------------------

  async putWebAuthnChallenge(input: PutChallengeInput): Promise<void> {
    this.#writable();
    this.#webauthn.put(input);
  }

  /** Takes a challenge once; of parallel answers to one challenge, exactly one gets it. */
  async takeWebAuthnChallenge(input: TakeChallengeInput): Promise<TakenChallenge> {
    if (!this.#stored) return { ok: false, reason: "unknown" };
    return this.#webauthn.take(input);
  }

  /**
   * A passkey challenge for the second step of a sign-in, bound to its mfa_token (by hash), issued
   * only while that sign-in can still be finished.
   */
  async openPasskeyStep(input: Omit<PutChallengeInput, "purpose" | "binding"> & { tokenHash: string; maxAttempts: number }): Promise<{ ok: boolean }> {
    if (!this.#stored || !this.#secondStep.live(input.tokenHash, input.now, input.maxAttempts)) return { ok: false };
    const { tokenHash, maxAttempts: _, ...challenge } = input;
    this.#webauthn.put({ ...challenge, purpose: "second_step", binding: tokenHash });
    return { ok: true };
  }

  // ---- uploads ---------------------------------------------------------------------------------

  /** One KYC upload in flight per user: a second one is refused while `holder` has the slot. */
  async claimUpload(input: { holder: string; now: number; ms: number }): Promise<CooldownResult> {
    this.#writable();
    return this.#limits.claimSlot({ name: KYC_UPLOAD_SLOT, ...input });
  }

  async releaseUpload(input: { holder: string }): Promise<void> {
    if (!this.#stored) return;
    this.#limits.releaseSlot({ name: KYC_UPLOAD_SLOT, holder: input.holder });
  }

  // ---- erasure (src/domain/account-deletion.ts) -------------------------------------------------

  /** The emailed links this subject's codes hold, by purpose: their KV records go before forget(). */
  async heldLinks(): Promise<{ purpose: string; linkHash: string }[]> {
    if (!this.#stored) return [];
    return this.ctx.storage.sql
      .exec<{ purpose: string; link_hash: string }>(`SELECT purpose, link_hash FROM codes WHERE link_hash IS NOT NULL`)
      .toArray()
      .map((r) => ({ purpose: r.purpose, linkHash: r.link_hash }));
  }

  /**
   * Erases everything this object holds (an account's deletion): sessions, codes and their payloads,
   * counters, challenges, its alarm. Idempotent. A user's sessions must be revoked first (setActive),
   * so the KV denylist already refuses their access tokens.
   */
  async forget(): Promise<void> {
    this.#stored = false;
    this.#disabledFlag = undefined;
    this.#alarmAt = null;
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  // ---- housekeeping ----------------------------------------------------------------------------

  override async alarm(): Promise<void> {
    const sql = this.ctx.storage.sql;
    // This alarm has fired: none is set until one is set again.
    this.#alarmAt = null;
    if (this.#stored) {
      const now = Date.now();
      this.#outbox.prune(now);
      await this.#project();
      this.#codes.prune(now);
      this.#limits.prune(now);
      this.#logins.prune(now);
      this.#refresh.prune(now);
      this.#secondStep.prune(now);
      this.#webauthn.prune(now);
      const next = nextExpiry(sql);
      if (next !== null) {
        this.#alarmAt = next;
        return this.ctx.storage.setAlarm(next);
      }
      if (!holdsNothing(sql)) return;
    }
    // All state has lapsed: the object deletes its database (and, since 2026-02-24, its alarm).
    this.#stored = false;
    this.#disabledFlag = undefined;
    await this.ctx.storage.deleteAll();
  }

  /** Makes the tables before a write, once per object. */
  #writable(): void {
    if (this.#stored) return;
    this.ctx.storage.sql.exec(SUBJECT_SCHEMA);
    this.#stored = true;
  }

  #scheduleCleanup(at: number): void {
    // Fire-and-forget is safe: alarm writes are part of this object's output gate. Once the alarm's
    // time is known here, a cleanup no earlier than it costs nothing (most writes are such).
    const set = (current: number | null) => {
      if (current !== null && current <= at) {
        this.#alarmAt = current;
        return;
      }
      this.#alarmAt = at;
      void this.ctx.storage.setAlarm(at);
    };
    if (this.#alarmAt !== undefined) return set(this.#alarmAt);
    void this.ctx.storage.getAlarm().then((current) => set(this.#alarmAt === undefined ? current : this.#alarmAt));
  }

  #disabled(): boolean {
    this.#disabledFlag ??= this.ctx.storage.sql.exec(`SELECT 1 FROM meta WHERE key = 'disabled'`).toArray().length > 0;
    return this.#disabledFlag;
  }

  async #revoke(userId: string, ids: string[], now: number, listed?: string[]): Promise<{ revoked: string[] }> {
    const revoked = this.#refresh.markRevoked(ids, now);
    await this.#propagateRevocation(userId, revoked, now, listed);
    return { revoked };
  }

  /**
   * Access tokens of a revoked session are refused at once through the KV denylist, read by
   * require-auth; the list learns of it through the projection (`listed`: the rows to stamp).
   */
  async #propagateRevocation(userId: string, sessionIds: string[], now: number, listed = sessionIds): Promise<void> {
    if (sessionIds.length === 0 && listed.length === 0) return;
    this.#outbox.revoked(userId, listed.map((id) => ({ id, expiresAt: this.#refresh.expiryOf(id) })), now, Date.now());
    const ttl = kvTtl(loadConfig(this.env).accessTtl);
    await Promise.all([
      ...sessionIds.map((id) => this.env.KV.put(kvKeys.revokedSession(id), "1", { expirationTtl: ttl })),
      this.#project(listed),
    ]);
  }

  /** Writes the pending D1 rows of these sessions, or all (the alarm); never throws. */
  #project(ids?: Array<string | PendingProjection>): Promise<boolean> {
    return flushOutbox(this.#outbox, database(this.env.DB), ids);
  }
}
