import type { ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, spawnControlPlane } from './binaries.js';

/** Short heartbeats and backoff, so outages are noticed and healed within a second in tests. */
export const FAST_ZONE_ARGS = [
  '--kds-heartbeat-interval',
  '200ms',
  '--kds-heartbeat-timeout',
  '1500ms',
  '--kds-backoff-initial',
  '100ms',
  '--kds-backoff-max',
  '400ms',
  '--insight-interval',
  '200ms',
];

export interface ZoneProcess {
  zone: string;
  apiUrl: string;
  dataDir: string;
  /** CA of the zone API's certificate. */
  caFile: string;
  /** The zone's admin token file. */
  adminTokenFile: string;
  child: ChildProcess;
  logs: Record<string, unknown>[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface ZoneProcessOptions {
  zone: string;
  /** wss://host:port of global's sync port (see syncUrlOf). */
  global: string;
  /** File holding the zone token; see writeTokenFile. */
  zoneTokenFile: string;
  /** global's sync-ca.pem; without it the zone runs with --insecure-skip-verify. */
  globalCaFile?: string;
  store?: string;
  dataDir?: string;
  extraArgs?: string[];
  /** Extra environment for the process. */
  env?: Record<string, string>;
}

export async function writeTokenFile(token: string, dir?: string): Promise<string> {
  const file = join(dir ?? (await mkdtemp(join(tmpdir(), 'meshca-token-'))), 'token');
  await writeFile(file, token, { mode: 0o600 });
  return file;
}

/** Starts a real `meshca-zone` process on a free API port and waits until its API listens. */
export async function startZoneProcess(opts: ZoneProcessOptions): Promise<ZoneProcess> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), `meshca-zone-${opts.zone}-`)));
  const args = [
    join(REPO_ROOT, 'apps/zone/bin/meshca-zone.mjs'),
    '--zone',
    opts.zone,
    '--global',
    opts.global,
    '--zone-token-file',
    opts.zoneTokenFile,
    ...(opts.globalCaFile === undefined ? ['--insecure-skip-verify'] : ['--global-ca-file', opts.globalCaFile]),
    '--data-dir',
    dataDir,
    '--api-address',
    '127.0.0.1',
    '--api-port',
    '0',
    '--store',
    opts.store ?? 'memory',
    // A free port each: tests run many of these at once (metricsUrlOf reads it from the log).
    '--metrics-address',
    '127.0.0.1:0',
    ...FAST_ZONE_ARGS,
    ...(opts.extraArgs ?? []),
  ];
  const { child, logs, apiUrl, stop } = await spawnControlPlane(`meshca-zone ${opts.zone}`, args, opts.env);
  return {
    zone: opts.zone,
    apiUrl,
    dataDir,
    caFile: join(dataDir, 'api-ca.pem'),
    adminTokenFile: join(dataDir, 'admin-token'),
    child,
    logs,
    stop,
  };
}
