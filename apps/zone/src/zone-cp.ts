// A zone control plane: one KDS stream to global into its own store, a read-only HTTPS API over
// that store, its ZoneInsight reported up, and a hook for services mounted on the same server.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import type { Router } from 'express';
import { validateResource } from '@meshca/api';
import {
  createLogger,
  createMetricsRegistry,
  listen,
  localUrl,
  serveMetrics,
  serverNames,
  serverTlsFromFilesOrGenerated,
  type Logger,
  VERSION,
} from '@meshca/common';
import { ZONE_NAME } from '@meshca/tokens';
import { loadOrCreateAdminToken } from '@meshca/http';
import { createPublishedTokenKeys, type DataplaneTokenVerifier } from '@meshca/tokens';
import { createKdsClient, KDS_PATH, type Backoff, type KdsLimits } from '@meshca/kds';
import { openStore, replicaId, type ResourceStore } from '@meshca/store';
import { attachDataplaneServer, createIdentityService, DATAPLANE_PATH, type IdentityService } from '@meshca/identity';
import { createZoneApi } from './api.js';
import { enforceTokenRevocations } from '@meshca/tokens';
import { startInsightWriter } from './insight.js';
import { startZoneLeadership, type ZoneLeadership } from './leadership.js';
import { zoneResourceStatus } from './status.js';
import { registerZoneMetrics } from './metrics.js';
import { createIssuanceMetrics } from './issuance-metrics.js';
import { zoneGuiSource } from './gui-source.js';
import { createGui, guiAssetsDir } from '@meshca/gui';

export { VERSION };

/** What a service mounted on the zone gets (see ZoneConfig.extend). */
export interface ZoneExtensionContext {
  zone: string;
  /** The zone's HTTPS server (for WebSocket upgrades and the like). */
  server: Server;
  /** Routes added here are served by the zone API, before its resource routes. */
  app: Router;
  store: ResourceStore;
  log: Logger;
  /** Checks dataplane tokens with the keys global published (works while global is down). */
  verifier: DataplaneTokenVerifier;
}

export interface ZoneExtension {
  close(): Promise<void>;
}

export interface ZoneConfig {
  zone: string;
  /** This replica's id in the zone's leader lease (default: host name, pid and a random part). */
  replica?: string;
  /** How long the zone leader's lease lasts without renewal (replicas on a shared Redis store; default 10 s). */
  leaderLeaseMs?: number;
  /** Where /metrics is served (Prometheus text, no token); none when absent. */
  metricsAddress?: { host: string; port: number } | undefined;
  /** The built GUI (index.html, app.js, app.css); default: beside the bundle. */
  guiDir?: string | undefined;
  /** wss://HOST:5685 (the path /kds is added when absent). */
  globalUrl: string;
  /** The zone token, or a file re-read on every connection attempt (so a replaced token is picked up). */
  zoneToken?: string;
  zoneTokenFile?: string;
  /** CA that signed global's sync certificate; otherwise the system roots. */
  globalCaFile?: string;
  /** Do not verify global's certificate. Development only. */
  insecureSkipVerify?: boolean;
  /** Global's API address, shown to users who try to write on the zone. */
  globalApiUrl?: string;
  dataDir: string;
  /** `memory` (default) or `redis://...`: Redis keeps the last known config across restarts. */
  store?: string;
  apiAddress: string;
  apiPort: number;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** Names added to the generated API certificate (--tls-san), besides the host's own (serverNames()). */
  tlsSans?: string[];
  kds?: Partial<KdsLimits>;
  backoff?: Partial<Backoff>;
  /** How often the ZoneInsight is checked for changes (default 1s). */
  insightIntervalMs?: number;
  /**
   * Take global's state when global's store is another dataset that lacks what this zone holds
   * (global restarted on an empty memory store); default: keep what the zone holds and report it.
   */
  acceptGlobalReset?: boolean;
  log?: Logger;
  /** Dataplane certificate issuance: one token bucket for the whole zone (default 1000/s, burst 1000). */
  issuance?: { ratePerSecond: number; burst: number };
  /** Signing worker threads for builtin/provided CAs (default: one per core). */
  signingWorkers?: number;
  extend?: (ctx: ZoneExtensionContext) => Promise<ZoneExtension>;
}

export interface ZoneControlPlane {
  zone: string;
  apiUrl: string;
  apiCaFile: string | undefined;
  adminTokenFile: string;
  store: ResourceStore;
  /** The KDS stream of this replica while it leads the zone (every replica on a memory store). */
  kds: ZoneLeadership;
  verifier: DataplaneTokenVerifier;
  /** Issues and rotates the certificates of the dataplanes connected at DATAPLANE_PATH. */
  identity: IdentityService;
  /** Where /metrics is served, when it is. */
  metricsUrl: string | undefined;
  close(): Promise<void>;
}

export function kdsUrl(global: string): string {
  let url: URL;
  try {
    url = new URL(global);
  } catch {
    throw new Error(`--global "${global}" is not a URL; write wss://HOST:5685`);
  }
  if (url.protocol !== 'wss:') throw new Error(`--global must start with wss:// (the sync stream is TLS), got ${url.protocol}//`);
  if (url.pathname === '' || url.pathname === '/') url.pathname = KDS_PATH;
  return url.toString();
}

/** Where to apply instead: --global-api, else the host the zone dials for sync with global's API port (from its welcome). */
export function readOnlyReason(config: Pick<ZoneConfig, 'globalUrl' | 'globalApiUrl'>, globalApiPort?: number): string {
  let api = config.globalApiUrl;
  if (api === undefined) {
    const port = globalApiPort ?? 5681;
    try {
      api = `https://${new URL(config.globalUrl).host.replace(/:\d+$/, '')}:${port}`;
    } catch {
      api = `https://<global>:${port}`;
    }
  }
  return `this is a zone control plane; apply this on the global control plane: meshctl --address ${api} apply -f ...`;
}

export async function startZone(config: ZoneConfig): Promise<ZoneControlPlane> {
  if (!ZONE_NAME.test(config.zone))
    throw new Error(`--zone "${config.zone}" must be a DNS label: lowercase letters, digits and "-", at most 63`);
  if (config.zoneToken === undefined && config.zoneTokenFile === undefined) {
    throw new Error(
      'a zone token is required: --zone-token-file FILE (create one on global with: meshctl generate zone-token --zone NAME)',
    );
  }
  const url = kdsUrl(config.globalUrl);
  const log = config.log ?? createLogger({ name: 'meshca-zone' });
  const ca =
    config.globalCaFile === undefined
      ? undefined
      : await readFile(config.globalCaFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
          throw new Error(`cannot read --global-ca-file ${config.globalCaFile}: ${err.code ?? err.message}`);
        });
  if (config.insecureSkipVerify === true) log.warn("not verifying global's certificate (--insecure-skip-verify): development only");

  const storeKind = config.store?.startsWith('redis') ? 'redis' : 'memory';
  const store = await openStore(config.store);
  const adminTokenFile = join(config.dataDir, 'admin-token');
  const admin = await loadOrCreateAdminToken(adminTokenFile);
  if (admin.created) log.info({ file: adminTokenFile }, 'created the zone admin token; meshctl needs it to read secrets (--token-file)');

  const token =
    config.zoneToken ??
    (async () => {
      const file = config.zoneTokenFile as string;
      try {
        return (await readFile(file, 'utf8')).trim();
      } catch (err) {
        throw new Error(`cannot read the zone token file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    });
  const openKds = (kdsStore: ResourceStore) =>
    createKdsClient({
      ...config.kds,
      url,
      token,
      zone: config.zone,
      store: kdsStore,
      ...(ca === undefined ? {} : { ca }),
      insecure: config.insecureSkipVerify === true,
      logger: log.child({ component: 'kds' }),
      ...(config.backoff === undefined ? {} : { backoff: config.backoff }),
      // The same shape checks global applied: a resource that fails them (a newer or broken global) is NACKed whole.
      validate: (r) => {
        const errors = validateResource(r);
        return errors.length === 0 ? undefined : errors.map((e) => `${e.field}: ${e.message}`).join('; ');
      },
      software: { name: 'meshca-zone', version: VERSION },
      acceptGlobalReset: config.acceptGlobalReset === true,
    });
  const replica = config.replica ?? replicaId();

  // Declared before the API that reports it; the identity service it reports on comes later.
  let identity: IdentityService | undefined;
  const kds: ZoneLeadership = startZoneLeadership({
    store,
    zone: config.zone,
    replica,
    ...(config.leaderLeaseMs === undefined ? {} : { leaseMs: config.leaderLeaseMs }),
    log: log.child({ component: 'leader' }),
    kds: openKds,
    // The leader writes the ZoneInsight: global shows the zone's health and who leads it.
    lead: (leaderStore, stream) =>
      startInsightWriter({
        store: leaderStore,
        zone: config.zone,
        intervalMs: config.insightIntervalMs ?? 1000,
        log,
        spec: () => {
          const st = stream.status();
          return {
            version: { name: 'meshca-zone', version: VERSION },
            store: storeKind,
            connected: st.connected,
            ...(st.connectedAt === undefined ? {} : { connectedAt: st.connectedAt }),
            lastRevision: st.lastRevision,
            nacks: st.nacks.length,
            leader: replica,
            // Global computes each MeshIdentity's status from what every zone reports here.
            identities: identity?.identities() ?? [],
            // Global's GUI shows which backends each zone can issue through, and their CAs.
            backends: (identity?.backends() ?? []).map((b) => ({
              mesh: b.mesh,
              backend: b.backend,
              type: b.type,
              available: !b.unavailable,
              ...(b.error === undefined ? {} : { error: b.error }),
              ...(b.ca === undefined ? {} : { ca: b.ca }),
            })),
          };
        },
      }),
  });
  const tokenKeys = createPublishedTokenKeys(store);
  const verifier = tokenKeys.verify;

  const { app, extensions } = createZoneApi({
    zone: config.zone,
    version: VERSION,
    store,
    storeKind,
    adminToken: admin.token,
    log,
    readOnlyReason: () => readOnlyReason(config, kds.status().globalApiPort),
    status: () => ({ global: url, kds: kds.status(), replica, leader: kds.leader() }),
    resourceStatus: async (r) => zoneResourceStatus(r, identity as IdentityService),
  });
  const tls = await serverTlsFromFilesOrGenerated({
    certFile: config.tlsCertFile,
    keyFile: config.tlsKeyFile,
    dir: config.dataDir,
    name: 'api',
    hosts: await serverNames({ bindAddress: config.apiAddress, extra: config.tlsSans ?? [] }),
    log,
  });
  const server = createServer({ cert: tls.certPem, key: tls.keyPem }, app);
  // Services on the server (dataplane streams, extensions), closed before it: upgraded sockets keep server.close() waiting.
  const closers: (() => Promise<void>)[] = [];
  const registry = createMetricsRegistry();
  identity = createIdentityService({
    observer: createIssuanceMetrics(registry),
    store,
    zone: config.zone,
    log: log.child({ component: 'identity' }),
    verifyToken: verifier,
    ...(config.issuance === undefined ? {} : { issuance: config.issuance }),
    ...(config.signingWorkers === undefined ? {} : { workers: config.signingWorkers }),
  });
  const dataplanes = attachDataplaneServer(identity, { server, path: DATAPLANE_PATH });
  // The same read-only views as global's GUI, over what this zone holds.
  const gui = createGui({
    source: zoneGuiSource({ zone: config.zone, store, kds, identity }),
    adminToken: admin.token,
    assetsDir: config.guiDir ?? guiAssetsDir(import.meta.url),
  });
  extensions.use(gui.router);
  const stopRevocations = enforceTokenRevocations({
    store,
    keys: tokenKeys,
    revalidate: (revoked) =>
      identity.revalidate((c) => (c.jti !== undefined && c.kid !== undefined ? revoked({ jti: c.jti, kid: c.kid }) : undefined)),
    log: log.child({ component: 'identity' }),
  });
  closers.unshift(async () => {
    stopRevocations();
    gui.close();
    dataplanes.close();
    await identity.close();
  });
  try {
    if (config.extend !== undefined) {
      const ext = await config.extend({ zone: config.zone, server, app: extensions, store, log, verifier });
      closers.unshift(() => ext.close());
    }
    await listen(server, config.apiPort, config.apiAddress);
  } catch (err) {
    for (const close of closers) await close();
    await store.close();
    throw err;
  }
  const apiUrl = localUrl(server, config.apiAddress);

  kds.start();
  registerZoneMetrics(registry, { identity: () => identity, kds });
  const metrics = config.metricsAddress === undefined ? undefined : await serveMetrics(registry, config.metricsAddress, log);
  log.info({ api: apiUrl, global: url, caFile: tls.caFile, zone: config.zone, store: storeKind }, 'zone control plane API listening');

  return {
    zone: config.zone,
    apiUrl,
    apiCaFile: tls.caFile,
    adminTokenFile,
    store,
    kds,
    verifier,
    identity,
    metricsUrl: metrics?.url,
    async close() {
      await metrics?.close();
      await kds.stop();
      for (const close of closers) await close();
      server.closeIdleConnections();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await store.close();
      log.info('zone control plane stopped');
    },
  };
}
