import { homedir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
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
import { startZone, VERSION } from './zone-cp.js';

interface Flags {
  zone?: string;
  global?: string;
  zoneTokenFile?: string;
  globalCaFile?: string;
  insecureSkipVerify?: boolean;
  globalApi?: string;
  dataDir?: string;
  store: string;
  apiAddress: string;
  apiPort: number;
  tlsCert?: string;
  tlsKey?: string;
  tlsSan: string[];
  leaderLease?: number;
  metricsAddress: string;
  kdsHeartbeatInterval?: number;
  kdsHeartbeatTimeout?: number;
  kdsBackoffInitial?: number;
  kdsBackoffMax?: number;
  insightInterval?: number;
  acceptGlobalReset?: boolean;
  logLevel: string;
}

const env = process.env;
const program = new Command('meshca-zone')
  .description('A zone control plane: keeps the Meshes and Secrets global streams to it, and serves them in its zone')
  .version(VERSION)
  .option('--zone <name>', "this zone's name (a DNS label); the zone token must be for it [MESHCA_ZONE]", env.MESHCA_ZONE)
  .option('--global <url>', "global's sync port, wss://HOST:5685 [MESHCA_GLOBAL]", env.MESHCA_GLOBAL)
  .option(
    '--zone-token-file <file>',
    'zone token from `meshctl generate zone-token`; re-read on every reconnect [MESHCA_ZONE_TOKEN_FILE]',
    env.MESHCA_ZONE_TOKEN_FILE,
  )
  .option(
    '--global-ca-file <file>',
    "CA certificate that signed global's sync certificate (global's data dir: sync-ca.pem) [MESHCA_GLOBAL_CA_FILE]",
    env.MESHCA_GLOBAL_CA_FILE,
  )
  .option(
    '--insecure-skip-verify',
    "do not verify global's certificate: development only [MESHCA_INSECURE_SKIP_VERIFY=true]",
    env.MESHCA_INSECURE_SKIP_VERIFY === 'true',
  )
  .option(
    '--global-api <url>',
    "global's API address, shown to users who try to write on the zone [MESHCA_GLOBAL_API]",
    env.MESHCA_GLOBAL_API,
  )
  .option('--data-dir <dir>', 'admin token and API TLS material (default ~/.meshca/zone-<name>) [MESHCA_DATA_DIR]', env.MESHCA_DATA_DIR)
  .option(
    '--store <url>',
    'memory, or redis://host:port/db?prefix=zone-1: to keep the last known config across restarts [MESHCA_STORE]',
    env.MESHCA_STORE ?? 'memory',
  )
  .option('--api-address <ip>', 'address the zone API binds to [MESHCA_API_ADDRESS]', env.MESHCA_API_ADDRESS ?? '0.0.0.0')
  .option('--api-port <port>', 'zone HTTPS API port [MESHCA_API_PORT]', port, fromEnv('MESHCA_API_PORT', port) ?? 5682)
  .option('--tls-cert <file>', 'zone API certificate (PEM); generated at first start when not given')
  .option('--tls-key <file>', 'zone API private key (PEM)')
  .option('--tls-san <name>', TLS_SAN_HELP, tlsSan, tlsSansFromEnv())
  .option(
    '--metrics-address <host:port>',
    'serve Prometheus metrics at http://HOST:PORT/metrics (no token: 0.0.0.0 opens it to the network), or off [MESHCA_METRICS_ADDRESS]',
    env.MESHCA_METRICS_ADDRESS ?? '127.0.0.1:5690',
  )
  .option(
    '--leader-lease <duration>',
    'replicas of a zone on one Redis: how long the leader lease lasts unrenewed (renewed every fifth of it; default 10s) [MESHCA_LEADER_LEASE]',
    millis,
    fromEnv('MESHCA_LEADER_LEASE', millis),
  )
  .option(
    '--kds-heartbeat-interval <duration>',
    'how often the zone pings global [MESHCA_KDS_HEARTBEAT_INTERVAL]',
    millis,
    fromEnv('MESHCA_KDS_HEARTBEAT_INTERVAL', millis),
  )
  .option(
    '--kds-heartbeat-timeout <duration>',
    'silence after which the stream is dropped and re-dialled [MESHCA_KDS_HEARTBEAT_TIMEOUT]',
    millis,
    fromEnv('MESHCA_KDS_HEARTBEAT_TIMEOUT', millis),
  )
  .option(
    '--kds-backoff-initial <duration>',
    'first reconnect delay, doubled per failure (default 500ms) [MESHCA_KDS_BACKOFF_INITIAL]',
    millis,
    fromEnv('MESHCA_KDS_BACKOFF_INITIAL', millis),
  )
  .option(
    '--kds-backoff-max <duration>',
    'longest reconnect delay (default 30s) [MESHCA_KDS_BACKOFF_MAX]',
    millis,
    fromEnv('MESHCA_KDS_BACKOFF_MAX', millis),
  )
  .option(
    '--insight-interval <duration>',
    'how often the ZoneInsight is checked for changes (default 1s) [MESHCA_INSIGHT_INTERVAL]',
    millis,
    fromEnv('MESHCA_INSIGHT_INTERVAL', millis),
  )
  .option(
    '--accept-global-reset',
    "take global's state even when global's store is another dataset that lacks Meshes or Secrets this zone holds (global restarted on an empty memory store); by default the zone keeps them and reports the divergence [MESHCA_ACCEPT_GLOBAL_RESET=true]",
    env.MESHCA_ACCEPT_GLOBAL_RESET === 'true',
  )
  .option('--log-level <level>', 'trace, debug, info, warn or error [MESHCA_LOG_LEVEL]', env.MESHCA_LOG_LEVEL ?? 'info')
  .action(async (opts: Flags) => {
    if (!opts.zone) throw new Error('--zone NAME is required (or MESHCA_ZONE)');
    if (!opts.global) throw new Error('--global wss://HOST:5685 is required (or MESHCA_GLOBAL)');
    if (!opts.zoneTokenFile)
      throw new Error('--zone-token-file FILE is required; create the token on global: meshctl generate zone-token --zone ' + opts.zone);
    const log = createLogger({ name: 'meshca-zone', level: opts.logLevel });
    const cp = await startZone({
      zone: opts.zone,
      globalUrl: opts.global,
      zoneTokenFile: opts.zoneTokenFile,
      ...(opts.globalCaFile === undefined ? {} : { globalCaFile: opts.globalCaFile }),
      insecureSkipVerify: opts.insecureSkipVerify === true,
      ...(opts.globalApi === undefined ? {} : { globalApiUrl: opts.globalApi }),
      dataDir: opts.dataDir ?? join(homedir(), '.meshca', `zone-${opts.zone}`),
      store: opts.store,
      apiAddress: opts.apiAddress,
      apiPort: opts.apiPort,
      ...(opts.tlsCert === undefined ? {} : { tlsCertFile: opts.tlsCert }),
      ...(opts.tlsKey === undefined ? {} : { tlsKeyFile: opts.tlsKey }),
      tlsSans: opts.tlsSan,
      ...(opts.leaderLease === undefined ? {} : { leaderLeaseMs: opts.leaderLease }),
      metricsAddress: parseMetricsAddress(opts.metricsAddress),
      kds: {
        ...(opts.kdsHeartbeatInterval === undefined ? {} : { heartbeatIntervalMs: opts.kdsHeartbeatInterval }),
        ...(opts.kdsHeartbeatTimeout === undefined ? {} : { heartbeatTimeoutMs: opts.kdsHeartbeatTimeout }),
      },
      backoff: {
        ...(opts.kdsBackoffInitial === undefined ? {} : { initialMs: opts.kdsBackoffInitial }),
        ...(opts.kdsBackoffMax === undefined ? {} : { maxMs: opts.kdsBackoffMax }),
      },
      ...(opts.insightInterval === undefined ? {} : { insightIntervalMs: opts.insightInterval }),
      acceptGlobalReset: opts.acceptGlobalReset === true,
      log,
    });
    const caFlag = cp.apiCaFile ? ` --ca-cert-file ${cp.apiCaFile}` : '';
    log.info(`read it with: meshctl --address ${cp.apiUrl} --token-file ${cp.adminTokenFile}${caFlag} get meshes`);
    closeOnSignals(cp, log);
  });

program.parseAsync().catch((err: unknown) => {
  console.error(`meshca-zone: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
