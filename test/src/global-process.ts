import type { ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, spawnControlPlane } from './binaries.js';

/** Short heartbeats, so outages are noticed within a second in tests (the zones: FAST_ZONE_ARGS). */
export const FAST_GLOBAL_ARGS = ['--sync-address', '127.0.0.1', '--kds-heartbeat-interval', '200ms', '--kds-heartbeat-timeout', '1500ms'];

export interface GlobalProcess {
  apiUrl: string;
  dataDir: string;
  caFile: string;
  tokenFile: string;
  child: ChildProcess;
  /** Every log line the process wrote, parsed. */
  logs: Record<string, unknown>[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts a real `meshca-global` process on a free port and waits until its API listens. */
export async function startGlobalProcess(
  opts: {
    dataDir?: string;
    store?: string;
    extraArgs?: string[];
    env?: Record<string, string>;
    /** Default 127.0.0.1. */
    apiAddress?: string;
    /** A command to run it under (e.g. `ip netns exec NS`). */
    prefix?: string[];
  } = {},
): Promise<GlobalProcess> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'meshca-global-')));
  const args = [
    join(REPO_ROOT, 'apps/global/bin/meshca-global.mjs'),
    '--data-dir',
    dataDir,
    '--api-address',
    opts.apiAddress ?? '127.0.0.1',
    '--api-port',
    '0',
    '--sync-port',
    '0',
    '--store',
    opts.store ?? 'memory',
    // A free port each: tests run many of these at once (metricsUrlOf reads it from the log).
    '--metrics-address',
    '127.0.0.1:0',
    ...(opts.extraArgs ?? []),
  ];
  const { child, logs, apiUrl, stop } = await spawnControlPlane('meshca-global', args, opts.env, opts.prefix);
  return {
    apiUrl,
    dataDir,
    caFile: join(dataDir, 'api-ca.pem'),
    tokenFile: join(dataDir, 'admin-token'),
    child,
    logs,
    stop,
  };
}

/** The sync URL a started global logged (`{"sync": "wss://..."}`). */
export function syncUrlOf(global: GlobalProcess): string {
  const entry = global.logs.find((l) => typeof l.sync === 'string');
  if (entry === undefined) throw new Error('meshca-global did not log its sync URL');
  return String(entry.sync);
}

export function syncCaFileOf(global: GlobalProcess): string {
  return join(global.dataDir, 'sync-ca.pem');
}
