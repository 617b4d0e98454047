// The zone's dataplane certificate service: one WebSocket per dataplane, issuance from the mesh's
// enabled backend, renewal, re-issue on CA switch, bundle updates, and certificate state reporting.
import { availableParallelism } from 'node:os';
import type { WebSocket } from 'ws';
import type { ResourceKey } from '@meshca/api';
import { CaError, dpCertTtlSeconds, identityUriSans, openCaBackend, type BackendEnv, type DataplaneIdentity } from '@meshca/ca';
import { atTime, type Logger } from '@meshca/common';
import { createIssuerPool, type IssuerPool } from '@meshca/pki';
import type { ResourceStore } from '@meshca/store';
import { authorizeRegistration, type DataplaneTokenClaims, type VerifyDataplaneToken } from './authorize.js';
import { createMeshCaCache, type BackendEntry, type MeshView, type OpenBackend } from './mesh-cas.js';
import {
  DP_CLOSE, IDENTITY_PROTOCOL_VERSION, decodeDataplaneMessage, type IdentityMessage, type ZoneMessage,
} from './protocol.js';
import { createRateLimiter } from './rate-limit.js';
import { closeAfterSends, sendInSmallFrames } from './small-frames.js';
import { removeIfPresent, upsert } from './store-writes.js';
import { renewDelayMs, retryDelayMs, type BackoffOptions } from './timing.js';
import { createHeldRoots, isRetired, trustBundle, type HeldRoots, type TrustBundle } from './trust-bundle.js';

export interface IdentityServiceOptions {
  store: ResourceStore;
  /** This zone's name; reported in each DataplaneInsight. */
  zone: string;
  log: Logger;
  /** Worker pool for builtin/provided signing; default: one made here with `workers` threads (and closed on close). */
  pool?: IssuerPool;
  /** Workers of the pool made here when none is given; 0 signs on the event loop thread. Default: available cores. */
  workers?: number;
  verifyToken: VerifyDataplaneToken;
  /** One token bucket shared by all dataplanes of the zone. Default 1000/s, burst 1000. */
  issuance?: { ratePerSecond: number; burst: number };
  openBackend?: OpenBackend;
  /** A disconnected dataplane is removed from the store after this long without reconnecting. Default 30s. */
  graceMs?: number;
  /** After an enabledBackend switch, re-issues are spread at random over this window. Default 10s. */
  rotationSpreadMs?: number;
  /**
   * A root that no backend of the mesh has any more stays in the bundle while a dataplane of this zone
   * holds a certificate under it, and this long after the last one is re-issued: other zones re-issue
   * theirs on their own clocks. Default 60s.
   */
  retiredRootLingerMs?: number;
  /** Retry of a failed issuance. Default 1s doubling to 5min, with jitter. */
  retry?: BackoffOptions;
  /** DataplaneInsight writes per dataplane at most once per this interval. Default 1000. */
  insightIntervalMs?: number;
  registerTimeoutMs?: number;
  csrTimeoutMs?: number;
  heartbeatMs?: number;
}

export interface IdentityStats {
  /** Dataplanes with an open connection. */
  connected: number;
  /** Dataplanes known (connected or within their grace period). */
  known: number;
  issued: number;
  failed: number;
  /** Issuances waiting for the rate limiter. */
  queued: number;
}

export interface DataplaneCertState {
  mesh: string;
  name: string;
  connected: boolean;
  backend?: string;
  serial?: string;
  notAfter?: string;
  bundleBackends?: string[];
  /** Roots in its bundle that belong to no backend any more but that held certificates still chain to. */
  retiredRoots?: number;
  /** When the held certificate is due for renewal. */
  renewalAt?: string;
  /** When the zone next tries to issue for it (renewal, retry after a failure, re-check while waiting). */
  nextAttemptAt?: string;
  /** An issuance for it is in flight now. */
  issuing?: boolean;
  /** What it waits for (the zone told it so). */
  waiting?: string;
  lastError?: { message: string; at: string };
}

export interface IdentityService {
  /** Serves one upgraded WebSocket whose token was verified to `claims`. */
  accept(ws: WebSocket, claims: DataplaneTokenClaims): void;
  readonly verifyToken: VerifyDataplaneToken;
  stats(): IdentityStats;
  dataplanes(): DataplaneCertState[];
  /**
   * Closes (4403, with a `refused` message saying why) every open connection whose token `check`
   * says is no longer valid — the zone calls it when global's published keys or revocations change.
   * The dataplane keeps the certificate it holds until it expires; it gets no other. Returns how
   * many were closed.
   */
  revalidate(check: (claims: DataplaneTokenClaims) => string | undefined): number;
  /** Writes pending DataplaneInsights now (tests, shutdown). */
  flushInsights(): Promise<void>;
  /** Closes connections (dataplanes reconnect to the next zone process) but keeps their store records. */
  close(): Promise<void>;
}

interface Session {
  ws: WebSocket | undefined;
  readonly id: string;
  readonly identity: DataplaneIdentity;
  readonly csr: boolean;
  firstCsr: string | undefined;
  csrWaiter: ((csr: string | undefined) => void) | undefined;
  issuing: boolean;
  again: boolean;
  alive: boolean;
  /** The next issuance attempt (renewal, retry, re-check); while connected, armed whenever `issuing` is false. */
  timer: NodeJS.Timeout | undefined;
  /** When `timer` fires. */
  dueAt: number | undefined;
  /** After a disconnect: removes its records when it has not come back within the grace period. */
  removal: NodeJS.Timeout | undefined;
  /** When the held certificate is to be renewed (between 50% and 80% of its lifetime). */
  renewAt: number | undefined;
  attempt: number;
  /** What the dataplane was last told it waits for (no mTLS, no mesh, ...); undefined once it is issued. */
  waiting: string | undefined;
  backend: string | undefined;
  serial: string | undefined;
  notAfter: number | undefined;
  /** The mesh's `enabledFp` its certificate was issued under: another one means re-issue. */
  issuedFrom: string | undefined;
  /** The roots its certificate chains to (the issuing backend's, shared); counted in its mesh's HeldRoots. */
  heldRoots: readonly string[] | undefined;
  /** The bundle it holds (shared by the sessions of its mesh). */
  bundle: TrustBundle | undefined;
  regenerations: number;
  lastIssuedAt: number | undefined;
  lastError: { message: string; at: string } | undefined;
  connectedAt: number;
  disconnectedAt: number | undefined;
  dpVersion: number | undefined;
  insightVersion: number | undefined;
}

const DEFAULTS = {
  graceMs: 30_000,
  rotationSpreadMs: 10_000,
  retiredRootLingerMs: 60_000,
  retry: { baseMs: 1000, maxMs: 300_000 },
  insightIntervalMs: 1000,
  registerTimeoutMs: 10_000,
  csrTimeoutMs: 30_000,
  heartbeatMs: 30_000,
};

export function createIdentityService(opts: IdentityServiceOptions): IdentityService {
  const cfg = { ...DEFAULTS, ...definedOnly(opts) };
  const { store, log } = opts;
  const workers = opts.workers ?? availableParallelism();
  const ownPool = opts.pool === undefined && workers > 0 ? createIssuerPool({ workers }) : undefined;
  const pool = opts.pool ?? ownPool;
  const env: BackendEnv = { get: (k) => store.get(k), log, ...(pool ? { pool } : {}) };
  const cas = createMeshCaCache({ env, open: opts.openBackend ?? openCaBackend, log });
  const limiter = createRateLimiter(opts.issuance ?? { ratePerSecond: 1000, burst: 1000 });
  const sessions = new Map<string, Session>();
  const byMesh = new Map<string, Set<Session>>();
  const dirty = new Set<Session>();
  /** Every open connection and the token it came in with, registered or not yet. */
  const connections = new Map<WebSocket, DataplaneTokenClaims>();
  const trust = new Map<string, MeshTrust>();
  const counters = { issued: 0, failed: 0 };
  let closed = false;

  // ---- store watch: Mesh and Secret changes arrive from global through KDS.
  const pendingRefresh = new Map<string, Set<string>>();
  let refreshTimer: NodeJS.Timeout | undefined;
  let stopWatch: () => void = () => {};
  const watching = startWatch();

  async function startWatch(): Promise<void> {
    const from = await store.revision();
    if (closed) return;
    stopWatch = store.watch(from, (event) => {
      const { type, name, mesh } = event.key;
      if (type === 'Mesh') queueRefresh(name, undefined);
      else if (type === 'Secret' && mesh !== undefined) queueRefresh(mesh, name);
      else if (type === 'GlobalSecret') for (const m of cas.loaded()) queueRefresh(m, name);
    }, () => {
      // Missed changes: re-read every mesh we serve and watch again.
      for (const m of cas.loaded()) queueRefresh(m, undefined, true);
      void startWatch();
    });
  }

  function queueRefresh(mesh: string, secret: string | undefined, all = false): void {
    if (cas.peek(mesh) === undefined) return; // not loaded: it will be read fresh on first use
    const set = pendingRefresh.get(mesh) ?? new Set<string>();
    if (secret !== undefined) set.add(secret);
    if (all) set.add('\0all');
    pendingRefresh.set(mesh, set);
    // Coalesce a burst of KDS changes (a snapshot, a Mesh with its CA secrets) into one reload.
    refreshTimer ??= setTimeout(runRefreshes, 20);
  }

  const lastReopen = new Map<string, number>();
  /** Reloads a mesh whose enabled backend failed to open, at most once per retry base interval. */
  function reopenSoon(mesh: string): void {
    const now = Date.now();
    if (now - (lastReopen.get(mesh) ?? -Infinity) < cfg.retry.baseMs) return;
    lastReopen.set(mesh, now);
    queueRefresh(mesh, undefined);
  }

  function runRefreshes(): void {
    refreshTimer = undefined;
    const work = [...pendingRefresh];
    pendingRefresh.clear();
    for (const [mesh, secrets] of work) {
      void cas.refresh(mesh, secrets).then(({ before, after }) => onMeshChanged(before, after), (err: unknown) => {
        log.error({ mesh, err: String(err) }, 'reloading mesh CAs failed');
      });
    }
  }

  function onMeshChanged(before: MeshView | undefined, after: MeshView): void {
    if (closed) return;
    const bundle = currentBundle(after.mesh, after);
    const recovered = after.enabled?.ca !== undefined && before?.enabled?.ca !== after.enabled.ca;
    if (after.enabledFp !== undefined && before?.enabledFp !== after.enabledFp) {
      const backend = after.enabled?.backend.name;
      // The fingerprint only, never the settings: a backend's conf may hold inline secrets.
      log.info({ mesh: after.mesh, backend, fingerprint: after.enabledFp }, before?.enabled?.backend.name === backend
        ? 'enabled CA backend\'s settings or roots changed: re-issuing dataplane certificates issued under the old ones'
        : 'mesh issuing CA changed: re-issuing its dataplane certificates');
    }
    const canIssue = after.enabled?.ca !== undefined;
    // Whether what a dataplane is issued from (or waits for) changed; a refresh that only reopened
    // a backend that fails again changes nothing, and the sessions' own retry timers stand.
    const enabledChanged = before === undefined || before.enabled?.ca !== after.enabled?.ca || before.enabledFp !== after.enabledFp
      || waitingReason(before) !== waitingReason(after);
    for (const s of byMesh.get(after.mesh) ?? []) {
      if (!s.ws) continue;
      const told = s.waiting;
      sendBundle(s, bundle);
      if (!enabledChanged) continue;
      // A certificate chaining to a retired root was issued from roots other than the enabled
      // backend's now, so it differs from enabledFp too: it is re-issued below like after a switch.
      if (s.issuing) {
        // Decided when it ends: a success under the current fingerprint needs nothing more; a
        // failure is retried at once, since this change may be what it was waiting for.
        s.again = true;
      } else if (s.serial === undefined || (canIssue && (s.lastError !== undefined || told !== undefined))) {
        // Nothing held yet, or it was failing or waiting: this change may be what it waited for.
        reissueWithin(s, Math.min(1000, cfg.rotationSpreadMs));
      } else if (after.enabledFp !== undefined && s.issuedFrom !== after.enabledFp) {
        reissueWithin(s, cfg.rotationSpreadMs);
      } else {
        // Still waiting (maybe for another reason); a "renewal is due" text ending in the same reason stays.
        const waiting = waitingReason(after);
        if (waiting !== undefined && told?.endsWith(waiting) !== true) tellWaiting(s, waiting);
      }
    }
  }

  // ---- trust bundles: the backends' roots plus retired roots still held (see trust-bundle.ts)

  function meshTrust(mesh: string): MeshTrust {
    let t = trust.get(mesh);
    if (!t) trust.set(mesh, (t = { held: createHeldRoots(() => bundleFollowsHolders(mesh)), view: undefined, bundle: undefined }));
    return t;
  }

  function currentBundle(mesh: string, view: MeshView): TrustBundle {
    const t = meshTrust(mesh);
    if (t.bundle === undefined || t.view !== view || t.held.changed) {
      const previous = t.bundle;
      t.held.changed = false;
      t.view = view;
      t.bundle = trustBundle(view, t.held.sets(), previous);
      const was = previous?.retiredRoots ?? 0;
      if (t.bundle.retiredRoots !== was) {
        log.info({ mesh, retiredRoots: t.bundle.retiredRoots }, t.bundle.retiredRoots > was
          ? 'CA roots left the mesh\'s backends but dataplane certificates still chain to them: they stay in the trust bundle until those are re-issued'
          : 'retired CA roots no dataplane certificate chains to any more left the trust bundle');
      }
    }
    return t.bundle;
  }

  /** Moves what `s` holds to `roots`; when a root set appears or disappears, the mesh's bundle follows. */
  function holdRoots(s: Session, roots: readonly string[] | undefined): void {
    const { held } = meshTrust(s.identity.mesh);
    if (s.heldRoots) {
      // Only a root that left the backends lingers: a removal (step 3) was checked on global against
      // every zone, so it leaves the bundle at once.
      const current = cas.peek(s.identity.mesh)?.roots ?? [];
      held.release(s.heldRoots, isRetired(s.heldRoots, current) ? cfg.retiredRootLingerMs : 0);
    }
    if (roots) held.hold(roots);
    s.heldRoots = roots;
  }

  function sendBundle(s: Session, bundle: TrustBundle): void {
    if (!s.ws || s.serial === undefined || s.bundle === bundle || bundle.bundlePem === '') return;
    if (s.bundle?.bundlePem !== bundle.bundlePem) {
      send(s, { type: 'bundle', bundlePem: bundle.bundlePem, bundleBackends: bundle.bundleBackends });
      // The agent drops "waiting" at a bundle: while this one still waits, say so again.
      if (s.waiting !== undefined) send(s, { type: 'waiting', reason: s.waiting });
    }
    s.bundle = bundle;
    dirty.add(s);
  }

  /** After held root sets changed: every session of the mesh gets the bundle if it changed. */
  function bundleFollowsHolders(mesh: string): void {
    const t = trust.get(mesh);
    const view = cas.peek(mesh);
    if (closed || !t?.held.changed || !view) return;
    const before = t.bundle;
    const bundle = currentBundle(mesh, view);
    if (bundle === before) return;
    for (const s of byMesh.get(mesh) ?? []) sendBundle(s, bundle);
  }

  // ---- connections

  function send(s: Session, message: ZoneMessage): void {
    if (s.ws && s.ws.readyState === s.ws.OPEN) sendInSmallFrames(s.ws, JSON.stringify(message));
  }

  const live = (s: Session): boolean => !closed && sessions.get(s.id) === s && s.ws !== undefined && s.ws.readyState === s.ws.OPEN;

  /** Ends a connection whose token expired (the dataplane keeps the certificate it holds until it expires). */
  function expired(ws: WebSocket, claims: DataplaneTokenClaims): void {
    if (!connections.delete(ws)) return;
    const at = claims.expiresAt?.toISOString() ?? '?';
    log.warn({ mesh: claims.mesh, dataplane: claims.name, expiredAt: at }, 'dataplane token expired: closing its connection');
    refuse(ws, 'forbidden', `dataplane token expired at ${at}; give the dataplane a new token (meshctl generate dataplane-token)`);
  }

  function refuse(ws: WebSocket, reason: 'bad-request' | 'forbidden', message: string): void {
    sendInSmallFrames(ws, JSON.stringify({ type: 'refused', reason, message } satisfies ZoneMessage));
    closeAfterSends(ws, reason === 'forbidden' ? DP_CLOSE.forbidden : DP_CLOSE.badRequest, message.slice(0, 120));
  }

  function accept(ws: WebSocket, claims: DataplaneTokenClaims): void {
    if (closed) {
      ws.close(DP_CLOSE.goingAway, 'zone is shutting down');
      return;
    }
    let session: Session | undefined;
    connections.set(ws, claims);
    // Kuma checks a token only at connect; here an expired token also ends the connection it opened.
    const cancelExpiry = claims.expiresAt === undefined ? undefined : atTime(claims.expiresAt.getTime(), () => expired(ws, claims));
    const registerTimer = setTimeout(() => refuse(ws, 'bad-request', `no register message within ${cfg.registerTimeoutMs} ms`), cfg.registerTimeoutMs);
    ws.on('message', (data, isBinary) => {
      let msg;
      try {
        if (isBinary) throw new Error('binary frames are not part of the protocol; send JSON text');
        msg = decodeDataplaneMessage(String(data));
      } catch (err) {
        refuse(ws, 'bad-request', (err as Error).message);
        return;
      }
      if (msg.type === 'csr') {
        if (!session?.csrWaiter) return refuse(ws, 'bad-request', 'csr sent without a csr-request');
        const waiter = session.csrWaiter;
        session.csrWaiter = undefined;
        waiter(msg.csrPem);
        return;
      }
      if (session) return refuse(ws, 'bad-request', 'register was already sent on this connection');
      clearTimeout(registerTimer);
      const auth = authorizeRegistration(claims, msg.dataplane);
      if (!auth.ok) {
        log.warn({ mesh: claims.mesh, dataplane: claims.name, reason: auth.message }, 'dataplane refused');
        return refuse(ws, auth.reason, auth.message);
      }
      session = register(ws, auth.identity, { csr: msg.csr === true || msg.csrPem !== undefined, firstCsr: msg.csrPem, heldNotAfter: msg.heldNotAfter });
      void writeDataplane(session, auth.spec);
    });
    ws.on('pong', () => {
      if (session) session.alive = true;
    });
    ws.on('close', () => {
      connections.delete(ws);
      cancelExpiry?.();
      clearTimeout(registerTimer);
      if (session) disconnected(session);
    });
    ws.on('error', (err) => log.debug({ err: err.message }, 'dataplane socket error'));
  }

  function register(ws: WebSocket, identity: DataplaneIdentity, opts: { csr: boolean; firstCsr: string | undefined; heldNotAfter: string | undefined }): Session {
    const id = `${identity.mesh}/${identity.name}`;
    const previous = sessions.get(id);
    const s: Session = {
      ws, id, identity, csr: opts.csr, firstCsr: opts.firstCsr, csrWaiter: undefined,
      issuing: false, again: false, alive: true, timer: undefined, dueAt: undefined, removal: undefined, renewAt: undefined, attempt: 0, waiting: undefined,
      // What it holds bounds the retries until this zone issues it one (it is issued one at once).
      backend: undefined, serial: undefined, notAfter: heldUntil(opts.heldNotAfter), issuedFrom: undefined,
      // Until it is issued again, the dataplane still presents the certificate of its previous connection.
      heldRoots: previous?.heldRoots, bundle: undefined,
      regenerations: previous?.regenerations ?? 0, lastIssuedAt: undefined, lastError: undefined,
      connectedAt: Date.now(), disconnectedAt: undefined,
      dpVersion: previous?.dpVersion, insightVersion: previous?.insightVersion,
    };
    if (previous) {
      previous.heldRoots = undefined; // handed over to the new session above
      retireSession(previous);
      // The newest connection wins: the older one is a dataplane restart or a half-open socket.
      previous.ws?.close(DP_CLOSE.replaced, 'replaced by a newer connection of the same dataplane');
    }
    sessions.set(id, s);
    let set = byMesh.get(identity.mesh);
    if (!set) byMesh.set(identity.mesh, (set = new Set()));
    set.add(s);
    send(s, { type: 'registered', protocol: IDENTITY_PROTOCOL_VERSION, mesh: identity.mesh, name: identity.name });
    log.debug({ mesh: identity.mesh, dataplane: identity.name, csr: s.csr }, 'dataplane registered');
    void issue(s);
    return s;
  }

  function retireSession(s: Session): void {
    clearTimer(s);
    if (s.removal) clearTimeout(s.removal);
    s.removal = undefined;
    s.csrWaiter?.(undefined);
    s.csrWaiter = undefined;
    byMesh.get(s.identity.mesh)?.delete(s);
    dirty.delete(s);
    holdRoots(s, undefined);
    bundleFollowsHolders(s.identity.mesh);
  }

  function disconnected(s: Session): void {
    if (sessions.get(s.id) !== s) return;
    s.ws = undefined;
    s.disconnectedAt = Date.now();
    s.csrWaiter?.(undefined);
    s.csrWaiter = undefined;
    clearTimer(s);
    dirty.add(s);
    if (closed) return;
    s.removal = setTimeout(() => {
      if (sessions.get(s.id) !== s || s.ws) return;
      sessions.delete(s.id);
      retireSession(s);
      void removeDataplane(s);
    }, cfg.graceMs);
    s.removal.unref();
  }

  // ---- issuance
  //
  // The invariant: a connected dataplane always has an issuance in flight or `timer` armed, and
  // while its certificate is valid the timer fires before notAfter. Every attempt ends in
  // planNext(), and arm() is the only place that sets the timer, capped by the certificate's
  // renewal time; so whatever happens to the Mesh (mTLS off, deleted, a CA down) the renewal
  // stays planned, and a renewal that cannot happen is reported.

  type Outcome =
    | { kind: 'issued' }
    | { kind: 'waiting'; reason: string }
    | { kind: 'failed'; message: string; retryable: boolean }
    | { kind: 'gone' };

  function clearTimer(s: Session): void {
    if (s.timer) clearTimeout(s.timer);
    s.timer = undefined;
    s.dueAt = undefined;
  }

  /** Sets the next attempt at `at`, or earlier: never after the renewal of a certificate that is still valid. */
  function arm(s: Session, at: number): void {
    clearTimer(s);
    const now = Date.now();
    s.dueAt = Math.min(at, latestAttempt(s, now));
    s.timer = setTimeout(() => {
      s.timer = undefined;
      s.dueAt = undefined;
      void issue(s);
    }, Math.max(0, s.dueAt - now));
    s.timer.unref();
  }

  /** Its renewal time, or once that has passed, 90% of the way to notAfter; no bound once expired. */
  function latestAttempt(s: Session, now: number): number {
    if (s.notAfter === undefined || s.notAfter <= now) return Infinity;
    if (s.renewAt !== undefined && s.renewAt > now) return s.renewAt;
    return now + (s.notAfter - now) * 0.9;
  }

  /** Re-issue soon (spread over `spreadMs`), unless an attempt is already planned sooner. */
  function reissueWithin(s: Session, spreadMs: number): void {
    const at = Date.now() + Math.random() * spreadMs;
    if (s.dueAt === undefined || s.dueAt > at) arm(s, at);
  }

  function waitingReason(view: MeshView): string | undefined {
    if (!view.exists) return `mesh "${view.mesh}" does not exist in this zone (yet); it arrives from global`;
    if (view.enabledMissing !== undefined) return `mesh "${view.mesh}" enables backend "${view.enabledMissing}", which it does not list`;
    if (!view.enabled) return `mesh "${view.mesh}" has no mTLS enabled (mtls.enabledBackend is not set); waiting for it`;
    return undefined;
  }

  function requestCsr(s: Session): Promise<string | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        s.csrWaiter = undefined;
        resolve(undefined);
      }, cfg.csrTimeoutMs);
      s.csrWaiter = (csr) => {
        clearTimeout(timer);
        resolve(csr);
      };
      send(s, { type: 'csr-request', uriSans: identityUriSans(s.identity) });
    });
  }

  async function issue(s: Session): Promise<void> {
    if (s.issuing) {
      s.again = true;
      return;
    }
    s.issuing = true;
    s.again = false;
    clearTimer(s);
    let outcome: Outcome;
    try {
      outcome = await attempt(s);
    } catch (err) {
      outcome = { kind: 'failed', message: err instanceof Error ? err.message : String(err), retryable: !(err instanceof CaError) || err.retryable };
    } finally {
      s.issuing = false;
    }
    dirty.add(s);
    if (!live(s)) return;
    if (s.again) {
      // The Mesh changed while this ran: decide again under the current settings.
      s.again = false;
      void issue(s);
      return;
    }
    planNext(s, outcome);
  }

  /** What to do after an attempt: the one place that decides when the next one is. */
  function planNext(s: Session, outcome: Outcome): void {
    const now = Date.now();
    switch (outcome.kind) {
      case 'gone':
        return;
      case 'issued':
        s.attempt = 0;
        arm(s, s.renewAt ?? now);
        return;
      case 'failed': {
        counters.failed++;
        s.attempt++;
        // A refusal (denied, misconfigured) fails the same way until someone fixes it: no fast
        // retries, one slow re-check (a fix on the CA's side, a Vault role, is not visible here),
        // and at once when the Mesh or its Secrets change. arm() still keeps it before notAfter.
        const delay = outcome.retryable ? retryDelayMs(s.attempt, cfg.retry, now, s.notAfter) : cfg.retry.maxMs;
        s.lastError = { message: outcome.message, at: new Date(now).toISOString() };
        send(s, { type: 'error', message: outcome.message, retryInMs: Math.round(Math.min(delay, latestAttempt(s, now) - now)) });
        if (s.attempt === 1) {
          log.warn({ mesh: s.identity.mesh, dataplane: s.identity.name, err: outcome.message, retryable: outcome.retryable },
            outcome.retryable ? 'dataplane certificate issuance failed; retrying with backoff' : 'dataplane certificate issuance refused by the CA; retrying slowly and when the Mesh changes');
        }
        arm(s, now + delay);
        return;
      }
      case 'waiting': {
        if (s.renewAt !== undefined && now < s.renewAt) {
          // Not due yet: the renewal stays where it was; the Mesh may be back by then.
          tellWaiting(s, outcome.reason);
          arm(s, s.renewAt);
          return;
        }
        s.attempt++;
        if (s.notAfter !== undefined) {
          const expired = s.notAfter <= now;
          const message = `certificate ${expired ? 'expired' : 'renewal is due'} (notAfter ${new Date(s.notAfter).toISOString()}) and cannot be ${expired ? 'replaced' : 'renewed'}: ${outcome.reason}`;
          if (s.lastError?.message !== message) {
            log.warn({ mesh: s.identity.mesh, dataplane: s.identity.name, notAfter: new Date(s.notAfter).toISOString(), reason: outcome.reason },
              expired ? 'dataplane certificate expired and cannot be replaced' : 'dataplane certificate renewal is due and cannot happen');
          }
          s.lastError = { message, at: new Date(now).toISOString() };
          tellWaiting(s, message);
        } else {
          tellWaiting(s, outcome.reason);
        }
        arm(s, now + retryDelayMs(s.attempt, cfg.retry, now, s.notAfter));
        return;
      }
    }
  }

  function tellWaiting(s: Session, reason: string): void {
    if (s.waiting === reason) return;
    s.waiting = reason;
    send(s, { type: 'waiting', reason });
  }

  /** One issuance attempt: waits for the Mesh, a CSR and the rate limiter, then issues and sends. */
  async function attempt(s: Session): Promise<Outcome> {
    const claims = s.ws === undefined ? undefined : connections.get(s.ws);
    if (s.ws !== undefined && claims?.expiresAt !== undefined && claims.expiresAt.getTime() <= Date.now()) {
      expired(s.ws, claims); // a timer late under load must not let one more certificate out
      return { kind: 'gone' };
    }
    await watching;
    let view = await cas.view(s.identity.mesh);
    if (!live(s)) return { kind: 'gone' };
    const waiting = waitingReason(view);
    if (waiting !== undefined) return { kind: 'waiting', reason: waiting };
    let csrPem: string | undefined;
    if (s.csr) {
      // A first CSR sent with register is used as it is: builtin and provided CAs put the identity
      // in the certificate whatever the CSR asks, a Vault backend refuses a CSR without exactly
      // the identity's URIs. meshca-dp sends none and answers csr-request, which names them.
      csrPem = s.firstCsr ?? (await requestCsr(s));
      s.firstCsr = undefined;
      if (csrPem === undefined) {
        if (!live(s)) return { kind: 'gone' };
        throw new Error(`the dataplane did not answer the CSR request within ${cfg.csrTimeoutMs} ms`);
      }
    }
    await limiter.acquire();
    if (!live(s)) return { kind: 'gone' };
    // The Mesh may have changed while this waited for a CSR or its turn (a fleet re-issue can
    // queue for seconds): issue under the settings current now, not replaced ones.
    view = cas.peek(s.identity.mesh) ?? view;
    const nowWaiting = waitingReason(view);
    if (nowWaiting !== undefined) return { kind: 'waiting', reason: nowWaiting };
    const entry = view.enabled;
    if (!entry?.ca) {
      // Opening it failed (a CA down when the zone started or the Mesh arrived): try to open it
      // again, or it would stay failed until the Mesh next changes.
      reopenSoon(s.identity.mesh);
      throw new CaError(entry?.error ?? 'the enabled backend is not available', true);
    }
    const fp = view.enabledFp;
    const issuedAt = Date.now();
    const cert = await entry.ca.issue({
      identity: s.identity,
      ttlSeconds: dpCertTtlSeconds(entry.backend),
      ...(csrPem !== undefined ? { csrPem } : {}),
    });
    if (!live(s)) return { kind: 'gone' };
    holdRoots(s, entry.roots);
    const before = meshTrust(s.identity.mesh).bundle;
    // The latest view: the mesh may have changed while this certificate was being issued.
    const bundle = currentBundle(s.identity.mesh, cas.peek(s.identity.mesh) ?? view);
    const message: IdentityMessage = {
      type: 'identity',
      certChainPem: cert.certChainPem,
      ...(cert.keyPem !== undefined ? { keyPem: cert.keyPem } : {}),
      bundlePem: bundle.bundlePem,
      bundleBackends: bundle.bundleBackends,
      backend: entry.backend.name,
      serial: cert.serial,
      notBefore: cert.notBefore.toISOString(),
      notAfter: cert.notAfter.toISOString(),
    };
    send(s, message);
    counters.issued++;
    s.backend = entry.backend.name;
    s.serial = cert.serial;
    s.notAfter = cert.notAfter.getTime();
    s.renewAt = issuedAt + renewDelayMs(issuedAt, s.notAfter);
    s.issuedFrom = fp;
    s.bundle = bundle;
    s.regenerations++;
    s.lastIssuedAt = issuedAt;
    s.lastError = undefined;
    s.waiting = undefined;
    // The Mesh changed while the CA was signing: this certificate is already outdated, issue
    // again (a change that left the fingerprint as it was needs nothing more).
    const now = cas.peek(s.identity.mesh);
    s.again = now !== undefined && now.enabledFp !== fp && (now.enabledFp !== undefined || waitingReason(now) !== undefined);
    // This was the last certificate under a retired root, or (a change raced this issuance) the
    // first under a root no backend has any more: the others' bundles follow.
    if (bundle !== before) for (const other of byMesh.get(s.identity.mesh) ?? []) sendBundle(other, bundle);
    return { kind: 'issued' };
  }

  // ---- store records

  async function writeDataplane(s: Session, spec: { networking: unknown }): Promise<void> {
    try {
      s.dpVersion = await upsert(store, { meta: { type: 'Dataplane', mesh: s.identity.mesh, name: s.identity.name }, spec: spec as Record<string, unknown> }, s.dpVersion);
    } catch (err) {
      log.error({ mesh: s.identity.mesh, dataplane: s.identity.name, err: String(err) }, 'storing Dataplane failed; retrying');
      // The store may be back in a moment (a Redis restarting): try again while it is connected.
      setTimeout(() => {
        if (live(s)) void writeDataplane(s, spec);
      }, cfg.insightIntervalMs * 5).unref();
    }
  }

  async function removeDataplane(s: Session): Promise<void> {
    const keys: ResourceKey[] = [
      { type: 'Dataplane', mesh: s.identity.mesh, name: s.identity.name },
      { type: 'DataplaneInsight', mesh: s.identity.mesh, name: s.identity.name },
    ];
    try {
      for (const key of keys) await removeIfPresent(store, key);
      log.debug({ mesh: s.identity.mesh, dataplane: s.identity.name }, 'dataplane gone: removed');
    } catch (err) {
      log.error({ mesh: s.identity.mesh, dataplane: s.identity.name, err: String(err) }, 'removing Dataplane failed');
    }
  }

  function insightSpec(s: Session): Record<string, unknown> {
    const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
    return {
      zone: opts.zone,
      connected: s.ws !== undefined,
      connectedAt: iso(s.connectedAt),
      ...(s.disconnectedAt !== undefined && s.ws === undefined ? { disconnectedAt: iso(s.disconnectedAt) } : {}),
      csr: s.csr,
      // Kuma's DataplaneInsight.mTLS names, plus the serial and the last error.
      mTLS: {
        ...(s.backend !== undefined ? { issuedBackend: s.backend } : {}),
        ...(s.serial !== undefined ? { certificateSerial: s.serial } : {}),
        ...(s.notAfter !== undefined ? { certificateExpirationTime: iso(s.notAfter) } : {}),
        ...(s.lastIssuedAt !== undefined ? { lastCertificateRegeneration: iso(s.lastIssuedAt) } : {}),
        certificateRegenerations: s.regenerations,
        supportedBackends: s.bundle?.bundleBackends ?? [],
        ...(s.bundle?.retiredRoots ? { retiredRoots: s.bundle.retiredRoots } : {}),
        ...(s.lastError !== undefined ? { lastError: s.lastError } : {}),
      },
    };
  }

  let flushing: Promise<void> | undefined;
  async function flushInsights(): Promise<void> {
    while (flushing) await flushing;
    const batch = [...dirty];
    dirty.clear();
    flushing = (async () => {
      const CONCURRENCY = 32;
      let next = 0;
      const worker = async () => {
        while (next < batch.length) {
          const s = batch[next++] as Session;
          if (sessions.get(s.id) !== s) continue;
          try {
            s.insightVersion = await upsert(store, { meta: { type: 'DataplaneInsight', mesh: s.identity.mesh, name: s.identity.name }, spec: insightSpec(s) }, s.insightVersion);
          } catch (err) {
            dirty.add(s); // written at the next flush
            log.error({ mesh: s.identity.mesh, dataplane: s.identity.name, err: String(err) }, 'writing DataplaneInsight failed; retrying');
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, batch.length) }, worker));
    })();
    try {
      await flushing;
    } finally {
      flushing = undefined;
    }
  }
  const insightTimer = setInterval(() => {
    if (dirty.size > 0 && !flushing) void flushInsights();
  }, cfg.insightIntervalMs);
  insightTimer.unref();

  const heartbeat = setInterval(() => {
    for (const s of sessions.values()) {
      if (!s.ws) continue;
      if (!s.alive) {
        s.ws.terminate();
        continue;
      }
      s.alive = false;
      s.ws.ping();
    }
  }, cfg.heartbeatMs);
  heartbeat.unref();

  return {
    accept,
    verifyToken: opts.verifyToken,
    stats() {
      let connected = 0;
      for (const s of sessions.values()) if (s.ws) connected++;
      return { connected, known: sessions.size, ...counters, queued: limiter.waiting };
    },
    dataplanes() {
      return [...sessions.values()].map((s) => ({
        mesh: s.identity.mesh,
        name: s.identity.name,
        connected: s.ws !== undefined,
        ...(s.backend !== undefined ? { backend: s.backend } : {}),
        ...(s.serial !== undefined ? { serial: s.serial } : {}),
        ...(s.notAfter !== undefined ? { notAfter: new Date(s.notAfter).toISOString() } : {}),
        ...(s.bundle !== undefined ? { bundleBackends: s.bundle.bundleBackends } : {}),
        ...(s.bundle?.retiredRoots ? { retiredRoots: s.bundle.retiredRoots } : {}),
        ...(s.renewAt !== undefined ? { renewalAt: new Date(s.renewAt).toISOString() } : {}),
        ...(s.dueAt !== undefined ? { nextAttemptAt: new Date(s.dueAt).toISOString() } : {}),
        ...(s.issuing ? { issuing: true } : {}),
        ...(s.waiting !== undefined ? { waiting: s.waiting } : {}),
        ...(s.lastError !== undefined ? { lastError: s.lastError } : {}),
      }));
    },
    revalidate(check) {
      let count = 0;
      for (const [ws, claims] of connections) {
        const why = check(claims);
        if (why === undefined) continue;
        connections.delete(ws);
        log.warn({ mesh: claims.mesh, dataplane: claims.name, reason: why }, 'dataplane token is no longer valid: closing its connection (it keeps its current certificate until that expires)');
        refuse(ws, 'forbidden', `dataplane token is no longer valid: ${why}`);
        count++;
      }
      return count;
    },
    flushInsights,
    async close() {
      if (closed) return;
      await flushInsights().catch(() => {});
      closed = true;
      stopWatch();
      clearInterval(insightTimer);
      clearInterval(heartbeat);
      if (refreshTimer) clearTimeout(refreshTimer);
      limiter.close();
      for (const s of sessions.values()) {
        retireSession(s);
        s.ws?.close(DP_CLOSE.goingAway, 'zone control plane is shutting down; reconnect');
      }
      sessions.clear();
      for (const t of trust.values()) t.held.close();
      await cas.close();
      await ownPool?.close();
    },
  };
}

interface MeshTrust {
  readonly held: HeldRoots;
  /** The view `bundle` was computed from. */
  view: MeshView | undefined;
  bundle: TrustBundle | undefined;
}

/** The notAfter a dataplane says it holds: it only bounds its own retries (and an expired one is reported). */
function heldUntil(iso: string | undefined): number | undefined {
  const t = iso === undefined ? NaN : Date.parse(iso);
  return Number.isFinite(t) ? t : undefined;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
