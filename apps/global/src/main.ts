import { homedir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { startGlobal, VERSION } from './global-cp.js';
import {
  closeOnSignals,
  createLogger,
  fromEnv,
  millis,
  parseMetricsAddress,
  port,
  TLS_SAN_HELP,
  tlsSan,
  tlsSansFromEnv,
} from '@meshca/common';
import { kdsLimitOptions, type KdsLimitFlags } from './flags.js';

const program = new Command('meshca-global')
  .description('The global control plane: holds Meshes, validates their CAs and streams them to zones')
  .version(VERSION)
  .option(
    '--data-dir <dir>',
    'admin token, TLS material and signing keys',
    process.env.MESHCA_DATA_DIR ?? join(homedir(), '.meshca', 'global'),
  )
  .option(
    '--store <url>',
    'memory, or redis://host:port/db to share state between replicas and survive restarts',
    process.env.MESHCA_STORE ?? 'memory',
  )
  .option('--api-address <ip>', 'address the HTTP API binds to', '0.0.0.0')
  .option('--api-port <port>', 'HTTPS API port', port, 5681)
  .option('--tls-cert <file>', 'API certificate (PEM); generated at first start when not given')
  .option('--tls-key <file>', 'API private key (PEM)')
  .option('--sync-address <ip>', 'address the KDS sync port binds to (default: --api-address)', process.env.MESHCA_SYNC_ADDRESS)
  .option(
    '--sync-port <port>',
    'KDS sync port zones connect to (WebSocket over TLS)',
    port,
    process.env.MESHCA_SYNC_PORT ? port(process.env.MESHCA_SYNC_PORT) : 5685,
  )
  .option('--sync-tls-cert <file>', 'sync port certificate (PEM); generated at first start when not given')
  .option('--sync-tls-key <file>', 'sync port private key (PEM)')
  .option('--tls-san <name>', TLS_SAN_HELP + ' (API and sync port)', tlsSan, tlsSansFromEnv())
  .option(
    '--kds-heartbeat-interval <duration>',
    'how often both sides ping on a KDS stream',
    millis,
    fromEnv('MESHCA_KDS_HEARTBEAT_INTERVAL', millis),
  )
  .option(
    '--kds-heartbeat-timeout <duration>',
    'silence after which a zone stream is dropped',
    millis,
    fromEnv('MESHCA_KDS_HEARTBEAT_TIMEOUT', millis),
  )
  .option(
    '--metrics-address <host:port>',
    'serve Prometheus metrics at http://HOST:PORT/metrics (no token: 0.0.0.0 opens it to the network), or off',
    process.env.MESHCA_METRICS_ADDRESS ?? '127.0.0.1:5680',
  )
  .option(
    '--leader-lease <duration>',
    'replicas on one Redis: how long the leader lease (the MeshInsight writer) and each replica presence last unrenewed (default 10s)',
    millis,
    fromEnv('MESHCA_LEADER_LEASE', millis),
  )
  .option(
    '--zone-settle <duration>',
    "after a zone connects, how long before its dataplanes' trust counts for moving dataplanes to a MeshIdentity",
    millis,
    fromEnv('MESHCA_ZONE_SETTLE', millis),
  )
  .option('--log-level <level>', 'trace, debug, info, warn or error', process.env.MESHCA_LOG_LEVEL ?? 'info')
  .action(
    async (
      opts: {
        dataDir: string;
        store: string;
        apiAddress: string;
        apiPort: number;
        tlsCert?: string;
        tlsKey?: string;
        logLevel: string;
        syncAddress?: string;
        syncPort: number;
        syncTlsCert?: string;
        syncTlsKey?: string;
        zoneSettle?: number;
        leaderLease?: number;
        metricsAddress: string;
        tlsSan: string[];
      } & KdsLimitFlags,
    ) => {
      const log = createLogger({ name: 'meshca-global', level: opts.logLevel });
      const cp = await startGlobal({
        dataDir: opts.dataDir,
        store: opts.store,
        apiAddress: opts.apiAddress,
        apiPort: opts.apiPort,
        tlsCertFile: opts.tlsCert,
        tlsKeyFile: opts.tlsKey,
        syncAddress: opts.syncAddress,
        syncPort: opts.syncPort,
        syncTlsCertFile: opts.syncTlsCert,
        syncTlsKeyFile: opts.syncTlsKey,
        tlsSans: opts.tlsSan,
        kds: kdsLimitOptions(opts),
        zoneSettleMs: opts.zoneSettle,
        leaderLeaseMs: opts.leaderLease,
        metricsAddress: parseMetricsAddress(opts.metricsAddress),
        log,
      });
      const caFlag = cp.apiCaFile ? ` --ca-cert-file ${cp.apiCaFile}` : '';
      log.info(
        `reach it with: meshctl config control-planes add --name global --address ${cp.apiUrl} --token-file ${cp.adminTokenFile}${caFlag}`,
      );
      const zoneCa = cp.syncCaFile ? ` --global-ca-file ${cp.syncCaFile}` : '';
      log.info(
        `start a zone with: meshctl generate zone-token --zone NAME > zone.token; meshca-zone --zone NAME --global ${cp.syncUrl} --zone-token-file zone.token${zoneCa}`,
      );
      closeOnSignals(cp, log);
    },
  );

program.parseAsync().catch((err: unknown) => {
  console.error(`meshca-global: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
