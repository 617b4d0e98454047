import { randomUUID } from 'node:crypto';
import { createServer } from 'node:https';
import { join } from 'node:path';
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
import { registerGlobalMetrics } from './metrics.js';
import { globalGuiSource } from './gui-source.js';
import { createGui, guiAssetsDir } from '@meshca/gui';
import { createApiApp, loadOrCreateAdminToken } from '@meshca/http';
import type { KdsLimits, KdsServer } from '@meshca/kds';
import { createLeaderElection, openStore, replicaId, startPresence, type ResourceStore } from '@meshca/store';
import { applyResource, deleteResource } from './apply.js';
import { startSync } from './kds.js';
import { createTokenService, type TokenService } from '@meshca/tokens';
import { tokensRouter } from './tokens-api.js';
import { zonesRouter } from './zones-api.js';
import { rotationView } from './rotation-view.js';
import { startMeshInsights, type MeshInsights } from './mesh-insights.js';
import { zonesSeen } from './zones-view.js';
import { identityStatus } from './identity-checks.js';

export { VERSION };

export interface GlobalConfig {
  /** Holds the admin token, the API's TLS material and the token signing keys. */
  dataDir: string;
  /** `memory` (default) or `redis://host:port/db`. */
  store?: string | undefined;
  apiAddress: string;
  apiPort: number;
  /** Operator-provided API certificate; otherwise one is generated into dataDir at first start. */
  tlsCertFile?: string | undefined;
  tlsKeyFile?: string | undefined;
  /** The KDS sync port zones connect to (default 5685; 0 when apiPort is 0), with its own TLS material. */
  syncAddress?: string | undefined;
  syncPort?: number | undefined;
  syncTlsCertFile?: string | undefined;
  syncTlsKeyFile?: string | undefined;
  /**
   * Names added to the generated API and sync certificates (--tls-san), besides the defaults: the
   * host name, its FQDN, every interface address and loopback.
   */
  tlsSans?: string[] | undefined;
  /** KDS heartbeats, message limits, backpressure (docs/kds-protocol.md). */
  kds?: Partial<KdsLimits>;
  /**
   * How long after a zone connects global treats what its dataplanes trust as unknown (default
   * 10 s: agents reconnect within 3 s, and report within the zone's 1 s insight interval).
   */
  zoneSettleMs?: number | undefined;
  /** This replica's id among global replicas on one Redis (default: host name, pid, random part). */
  replica?: string | undefined;
  /** The lease of global's leader (the MeshInsight writer) and of each replica's presence (default 10 s). */
  leaderLeaseMs?: number | undefined;
  /** Where /metrics is served (Prometheus text, no token); none when absent. */
  metricsAddress?: { host: string; port: number } | undefined;
  /** The built GUI (index.html, app.js, app.css); default: beside the bundle. */
  guiDir?: string | undefined;
  log?: Logger;
}

export interface GlobalControlPlane {
  apiUrl: string;
  /** The CA file a client uses to verify the API's certificate. */
  apiCaFile: string | undefined;
  adminTokenFile: string;
  /** wss://host:port of the sync port (zones append nothing: the path /kds is the default). */
  syncUrl: string;
  /** The CA file a zone uses to verify the sync port's certificate (--global-ca-file). */
  syncCaFile: string | undefined;
  store: ResourceStore;
  kds: KdsServer;
  tokens: TokenService;
  /** Where /metrics is served, when it is. */
  metricsUrl: string | undefined;
  close(): Promise<void>;
}

export async function startGlobal(config: GlobalConfig): Promise<GlobalControlPlane> {
  const log = config.log ?? createLogger({ name: 'meshca-global' });
  const store = await openStore(config.store);
  const adminTokenFile = join(config.dataDir, 'admin-token');
  const admin = await loadOrCreateAdminToken(adminTokenFile);
  if (admin.created) log.info({ file: adminTokenFile }, 'created the admin token; meshctl needs it for writes (--token-file)');

  const tls = await serverTlsFromFilesOrGenerated({
    certFile: config.tlsCertFile,
    keyFile: config.tlsKeyFile,
    dir: config.dataDir,
    name: 'api',
    hosts: await serverNames({ bindAddress: config.apiAddress, extra: config.tlsSans ?? [] }),
    log,
  });
  const tokens = await createTokenService({ dataDir: config.dataDir, store, log });
  const replica = config.replica ?? replicaId();
  // Other replicas trust the zone states this one records while it is present.
  const presence = startPresence(store.leases, replica, config.leaderLeaseMs);
  let apiPort: number | undefined;
  let insights: MeshInsights | undefined;
  const online = new Map<string, boolean>();
  // Bumped on every zone state change (connect, ACK, NACK, drop): the GUI's views of zones follow it.
  let zoneChanges = 0;
  const sync = await startSync(
    {
      apiPort: () => apiPort,
      dataDir: config.dataDir,
      address: config.syncAddress ?? config.apiAddress,
      // A caller that asks for a free API port (tests, in-process use) gets a free sync port too.
      port: config.syncPort ?? (config.apiPort === 0 ? 0 : 5685),
      ...(config.syncTlsCertFile === undefined ? {} : { tlsCertFile: config.syncTlsCertFile }),
      ...(config.tlsSans === undefined ? {} : { tlsSans: config.tlsSans }),
      ...(config.syncTlsKeyFile === undefined ? {} : { tlsKeyFile: config.syncTlsKeyFile }),
      ...(config.kds === undefined ? {} : { limits: config.kds }),
      software: { name: 'meshca-global', version: VERSION },
      replica,
    },
    {
      store,
      tokens,
      log,
      onZoneState: (s) => {
        zoneChanges++;
        if (online.get(s.zone) === s.online) return;
        online.set(s.zone, s.online);
        insights?.zonesChanged();
      },
    },
  );
  // One MeshInsight writer among the replicas: the leader's, writing through a store fenced by its term.
  const leader = createLeaderElection({
    leases: store.leases,
    name: 'global-leader',
    holder: replica,
    ...(config.leaderLeaseMs === undefined ? {} : { leaseMs: config.leaderLeaseMs }),
    log: log.child({ component: 'leader' }),
    onElected: (term) => {
      insights?.close();
      insights = startMeshInsights({
        store: store.fenced?.(term.fence) ?? store,
        zones: () => zonesSeen(store, sync.kds),
        log: log.child({ component: 'mesh-insights' }),
        ...(config.zoneSettleMs !== undefined ? { settleMs: config.zoneSettleMs } : {}),
      });
    },
    onLost: () => {
      insights?.close();
      insights = undefined;
    },
  });
  const deps = { store, log, rotationView: (mesh: string) => rotationView(store, sync.kds, mesh) };
  const gui = createGui({
    source: globalGuiSource({ store, kds: sync.kds, replica, zonesVersion: () => zoneChanges }),
    adminToken: admin.token,
    assetsDir: config.guiDir ?? guiAssetsDir(import.meta.url),
  });
  const app = createApiApp({
    store,
    log,
    adminToken: admin.token,
    info: { mode: 'global', version: VERSION, instanceId: randomUUID(), store: config.store?.startsWith('redis') ? 'redis' : 'memory' },
    extend: (api) => {
      api.use(tokensRouter(tokens, admin.token));
      api.use(zonesRouter({ store, kds: sync.kds, adminToken: admin.token, replica }));
      api.use(gui.router);
    },
    status: (r) => identityStatus(store, r),
    writer: {
      apply: (input, opts) => applyResource(deps, input, opts),
      remove: (key) => deleteResource(deps, key),
    },
  });
  const server = createServer({ cert: tls.certPem, key: tls.keyPem }, app);
  try {
    await listen(server, config.apiPort, config.apiAddress);
  } catch (err) {
    await sync.close();
    await store.close();
    throw err;
  }
  const apiUrl = localUrl(server, config.apiAddress);
  apiPort = Number(new URL(apiUrl).port);
  const registry = createMetricsRegistry();
  registerGlobalMetrics(registry, () => sync.kds);
  const metrics = config.metricsAddress === undefined ? undefined : await serveMetrics(registry, config.metricsAddress, log);
  log.info({ api: apiUrl, caFile: tls.caFile }, 'global control plane API listening');

  return {
    apiUrl,
    apiCaFile: tls.caFile,
    adminTokenFile,
    syncUrl: sync.url,
    syncCaFile: sync.caFile,
    store,
    kds: sync.kds,
    tokens,
    metricsUrl: metrics?.url,
    async close() {
      await metrics?.close();
      await leader.stop();
      await presence.stop();
      await sync.close();
      gui.close();
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
      log.info('global control plane stopped');
    },
  };
}
