// The zone's dataplane certificate service: it wires the parts. Connections (connections.ts) hand
// sessions to issuance (issuance.ts), which issues from the mesh's enabled backend (mesh-ca-cache.ts,
// reloaded by mesh-watch.ts) and hands out trust bundles (trust.ts); records.ts writes what the
// zone reports of each dataplane.
import { X509Certificate } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { WebSocket } from 'ws';
import { openCaBackend, type BackendEnv, type CaClientState } from '@meshca/ca';
import type { Logger } from '@meshca/common';
import { createIssuerPool, type IssuerPool } from '@meshca/pki';
import type { ResourceStore } from '@meshca/store';
import type { DataplaneTokenClaims, VerifyDataplaneToken } from './authorize.js';
import { createConnections } from './connections.js';
import { createIssuance } from './issuance.js';
import { createMeshCaCache, type OpenBackend } from './mesh-ca-cache.js';
import { watchMeshes } from './mesh-watch.js';
import { createRateLimiter } from './rate-limit.js';
import { createRecords } from './records.js';
import type { BackoffOptions } from './timing.js';
import { createMeshTrusts } from './trust.js';
import { createIdentityCaOpener } from './identity-ca.js';
import type { Condition } from './mesh-identities.js';
import { createTrustPublisher } from './trust-publisher.js';
import type { IssuanceObserver } from './observer.js';
import { caOf } from './certificate-facts.js';

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
  /** Told of every CA call and failed issuance attempt (the zone's metrics). */
  observer?: IssuanceObserver;
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

export interface BackendState {
  mesh: string;
  backend: string;
  type: string;
  /** The earliest notAfter among the backend's roots; absent while it has none (unavailable from the start). */
  notAfter?: Date;
  /** It could not be opened the last time it was tried. */
  unavailable: boolean;
  /** Its client to a remote CA (Vault, ACM PCA), while it is open. */
  client?: CaClientState;
  /** Why it could not be opened. */
  error?: string;
  /** The CA certificate its certificates chain to (its first root). */
  ca?: { subject: string; notAfter: string };
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
  /** When this zone process issued the held certificate (absent when it came from another one). */
  issuedAt?: string;
  /** The MeshIdentity that issued what it holds. */
  identity?: string;
  /** A MeshIdentity selects it but it is not moved to it yet, and why. */
  pending?: string;
  /** When the zone next tries to issue for it (renewal, retry after a failure, re-check while waiting). */
  nextAttemptAt?: string;
  /** An issuance for it is in flight now. */
  issuing?: boolean;
  /** What it waits for (the zone told it so). */
  waiting?: string;
  lastError?: { message: string; at: string };
}

/** A connected dataplane's certificate in numbers (ms since the epoch), for metrics at each scrape. */
export interface HeldCertificate {
  mesh: string;
  notAfter?: number;
  renewAt?: number;
  /** When this zone process issued it (absent when it came from another one). */
  issuedAt?: number;
  /** Its last issuance attempt failed; a retry is planned. */
  failing: boolean;
}

/** One MeshIdentity as this zone runs it (reported to global in the ZoneInsight). */
export interface ZoneIdentityState {
  mesh: string;
  name: string;
  kri: string;
  trustDomain?: string;
  conditions: Condition[];
  /** SHA-256 of its CA certificates. */
  caFingerprints?: string[];
  /** Connected dataplanes holding a certificate it issued. */
  dataplanes: number;
}

export interface IdentityService {
  /** Serves one upgraded WebSocket whose token was verified to `claims`. */
  accept(ws: WebSocket, claims: DataplaneTokenClaims): void;
  readonly verifyToken: VerifyDataplaneToken;
  stats(): IdentityStats;
  dataplanes(): DataplaneCertState[];
  /** The certificates of the connected dataplanes; cheaper than dataplanes() (no strings made). */
  certificates(): Iterable<HeldCertificate>;
  /** The CA backends of the meshes this zone serves, and when each one's root expires. */
  backends(): BackendState[];
  /** The MeshIdentities of the meshes this zone serves, as it runs them. */
  identities(): ZoneIdentityState[];
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
  const cas = createMeshCaCache({
    env,
    open: opts.openBackend ?? openCaBackend,
    log,
    zone: opts.zone,
    ...(opts.observer ? { observer: opts.observer } : {}),
    openIdentity: createIdentityCaOpener({ store, zone: opts.zone, log, ...(pool ? { pool } : {}) }),
    list: (type, mesh) => store.list(type, { mesh }),
  });
  const limiter = createRateLimiter(opts.issuance ?? { ratePerSecond: 1000, burst: 1000 });
  let closed = false;

  const connections = createConnections({
    log,
    registerTimeoutMs: cfg.registerTimeoutMs,
    csrTimeoutMs: cfg.csrTimeoutMs,
    graceMs: cfg.graceMs,
    heartbeatMs: cfg.heartbeatMs,
    on: {
      registered(s, spec) {
        void records.writeDataplane(s, spec);
        void issuance.issue(s);
      },
      disconnected(s) {
        issuance.stop(s);
        records.touch(s);
      },
      retired(s) {
        issuance.stop(s);
        records.forget(s);
        trusts.hold(s, undefined);
        trusts.follow(s.identity.mesh);
        if (s.held.identity !== undefined) republish(s.identity.mesh);
      },
      removed: (s) => void records.remove(s),
    },
  });
  const records = createRecords({
    store,
    log,
    zone: opts.zone,
    intervalMs: cfg.insightIntervalMs,
    current: (s) => connections.isCurrent(s),
  });
  const trusts = createMeshTrusts({
    cas,
    log,
    retiredRootLingerMs: cfg.retiredRootLingerMs,
    onChanged: (mesh, bundle) => {
      for (const s of connections.sessionsOf(mesh)) issuance.sendBundle(s, bundle);
    },
  });
  const publisher = createTrustPublisher({ store, zone: opts.zone, log, sessionsOf: (mesh) => connections.sessionsOf(mesh) });
  const republish = (mesh: string) => {
    const view = cas.peek(mesh);
    if (view) publisher.reconcile(view);
  };
  // A mesh with MeshIdentities is loaded even before its first dataplane: its CA is made and its
  // MeshTrust published, so other zones trust it by the time dataplanes come.
  const loadForIdentities = (mesh: string) => {
    if (closed) return;
    void cas.view(mesh).then(
      (view) => publisher.reconcile(view),
      (err: unknown) => log.warn({ mesh, err: String(err) }, 'loading the MeshIdentities of a mesh failed'),
    );
  };
  const watch = watchMeshes({
    store,
    cas,
    log,
    reopenIntervalMs: cfg.retry.baseMs,
    onChanged: (before, after) => {
      issuance.meshChanged(before, after);
      publisher.reconcile(after);
    },
    onIdentityOfUnloadedMesh: loadForIdentities,
  });
  void watch.ready.then(async () => {
    for (const mesh of new Set((await store.list('MeshIdentity')).map((r) => r.meta.mesh ?? ''))) if (mesh) loadForIdentities(mesh);
  });
  const issuance = createIssuance({
    cas,
    trusts,
    limiter,
    log,
    peer: connections.peer,
    ready: watch.ready,
    reopenSoon: (mesh) => watch.reopenSoon(mesh),
    heldChanged: (s) => republish(s.identity.mesh),
    touched: (s) => records.touch(s),
    sessionsOf: (mesh) => connections.sessionsOf(mesh),
    retry: cfg.retry,
    rotationSpreadMs: cfg.rotationSpreadMs,
    ...(opts.observer ? { observer: opts.observer } : {}),
    csrTimeoutMs: cfg.csrTimeoutMs,
  });

  return {
    accept: (ws: WebSocket, claims: DataplaneTokenClaims) => connections.accept(ws, claims),
    verifyToken: opts.verifyToken,
    stats() {
      let connected = 0;
      for (const s of connections.sessions()) if (s.link.ws) connected++;
      return { connected, known: connections.count, ...issuance.counters, queued: limiter.waiting };
    },
    backends() {
      const out: BackendState[] = [];
      for (const mesh of cas.loaded()) {
        for (const entry of cas.peek(mesh)?.entries.values() ?? []) {
          const ends = (entry.roots ?? []).map(rootNotAfter).filter((d): d is Date => d !== undefined);
          const notAfter = ends.length === 0 ? undefined : new Date(Math.min(...ends.map((d) => d.getTime())));
          out.push({
            mesh,
            backend: entry.backend.name,
            type: entry.backend.type,
            ...(notAfter ? { notAfter } : {}),
            unavailable: !entry.ca,
            ...(entry.ca?.clientState ? { client: entry.ca.clientState() } : {}),
            ...(entry.error !== undefined ? { error: entry.error } : {}),
            ...caField(entry.roots),
          });
        }
      }
      return out;
    },
    *certificates() {
      for (const { identity, link, held, plan } of connections.sessions()) {
        if (link.ws === undefined) continue;
        yield {
          mesh: identity.mesh,
          notAfter: held.notAfter,
          renewAt: held.renewAt,
          issuedAt: held.lastIssuedAt,
          failing: plan.lastError !== undefined,
        } as HeldCertificate;
      }
    },
    dataplanes() {
      const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
      return [...connections.sessions()].map(
        ({ identity, link, held, plan, trust }) =>
          definedOnly({
            mesh: identity.mesh,
            name: identity.name,
            connected: link.ws !== undefined,
            backend: held.backend,
            identity: held.identity,
            pending: plan.pending,
            serial: held.serial,
            notAfter: iso(held.notAfter),
            bundleBackends: trust.bundle?.bundleBackends,
            retiredRoots: trust.bundle?.retiredRoots || undefined,
            renewalAt: iso(held.renewAt),
            issuedAt: iso(held.lastIssuedAt),
            nextAttemptAt: iso(plan.dueAt),
            issuing: plan.issuing || undefined,
            waiting: plan.waiting,
            lastError: plan.lastError,
          }) as DataplaneCertState,
      );
    },
    identities() {
      const out: ZoneIdentityState[] = [];
      for (const mesh of cas.loaded()) {
        const view = cas.peek(mesh);
        if (!view) continue;
        const holding = new Map<string, number>();
        for (const s of connections.sessionsOf(mesh)) {
          if (s.held.identity !== undefined && s.link.ws) holding.set(s.held.identity, (holding.get(s.held.identity) ?? 0) + 1);
        }
        for (const e of view.identities.values()) {
          out.push(
            definedOnly({
              mesh,
              name: e.name,
              kri: e.kri,
              trustDomain: e.trustDomain,
              conditions: e.conditions,
              caFingerprints: e.rootFingerprints,
              dataplanes: holding.get(e.name) ?? 0,
            }) as ZoneIdentityState,
          );
        }
      }
      return out;
    },
    revalidate: (check) => connections.revalidate(check),
    flushInsights: () => records.flush(),
    async close() {
      if (closed) return;
      await records.flush().catch(() => {});
      closed = true;
      watch.close();
      publisher.close();
      records.close();
      limiter.close();
      connections.close();
      trusts.close();
      await cas.close();
      await ownPool?.close();
    },
  };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const rootEnds = new Map<string, Date | undefined>();

/** A root's notAfter, parsed once per PEM (every scrape asks again). */
function rootNotAfter(pem: string): Date | undefined {
  if (!rootEnds.has(pem)) {
    let end: Date | undefined;
    try {
      end = new Date(new X509Certificate(pem).validTo);
    } catch {
      end = undefined;
    }
    if (rootEnds.size > 1024) rootEnds.clear();
    rootEnds.set(pem, end);
  }
  return rootEnds.get(pem);
}

function caField(roots: readonly string[] | undefined): { ca?: { subject: string; notAfter: string } } {
  const ca = caOf(roots);
  return ca === undefined ? {} : { ca };
}
