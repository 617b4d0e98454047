// meshca-dp wired: identity stream -> files -> reload, plus the status endpoint.
import { join } from 'node:path';
import { createMetricsRegistry, serveMetrics, type Logger, type MetricsServer } from '@meshca/common';
import { registerAgentMetrics } from './metrics.js';
import { connectIdentity, type ConnectOptions, type IdentityHandle } from './client.js';
import { FILES, writeIdentityFiles } from './files.js';
import { createReloader, type ReloadOptions } from './reload.js';
import { startStatusServer } from './status.js';

export interface AgentOptions extends ConnectOptions {
  dir: string;
  reload?: Omit<ReloadOptions, 'env' | 'log'>;
  /** 127.0.0.1 port for GET /status; 0 picks a free one. */
  statusPort?: number;
  /** Where /metrics is served (Prometheus text); none when absent. */
  metricsAddress?: { host: string; port: number } | undefined;
  log: Logger;
}

export interface RunningAgent {
  handle: IdentityHandle;
  statusPort?: number;
  metricsUrl?: string;
  stop(): Promise<void>;
}

export async function runAgent(opts: AgentOptions): Promise<RunningAgent> {
  const { log } = opts;
  const handle = connectIdentity(opts);
  const reloads: { failures: number; lastAt?: number } = { failures: 0 };
  const reload = createReloader({
    ...opts.reload,
    onFailure: () => void reloads.failures++,
    env: {
      MESHCA_CERT_FILE: join(opts.dir, FILES.cert),
      MESHCA_KEY_FILE: join(opts.dir, FILES.key),
      MESHCA_BUNDLE_FILE: join(opts.dir, FILES.bundle),
    },
    log,
  });
  // Writes in arrival order: a bundle update must not overtake the certificate before it.
  let chain = Promise.resolve();
  handle.on('update', (identity, change) => {
    chain = chain.then(async () => {
      try {
        await writeIdentityFiles(opts.dir, identity, change);
        log.info({ dir: opts.dir, change, serial: identity.serial, backend: identity.backend }, 'wrote identity files');
        reloads.lastAt = Date.now();
        await reload();
      } catch (err) {
        log.error({ dir: opts.dir, err: (err as Error).message }, 'could not write identity files');
      }
    });
  });
  handle.on('problem', (message) => log.warn({ err: message }, 'identity problem'));
  const status = opts.statusPort === undefined ? undefined : await startStatusServer(opts.statusPort, () => handle.status());
  if (status) log.info({ port: status.port }, `status on http://127.0.0.1:${status.port}/status`);
  let metrics: MetricsServer | undefined;
  if (opts.metricsAddress !== undefined) {
    const registry = createMetricsRegistry();
    registerAgentMetrics(registry, handle, reloads);
    metrics = await serveMetrics(registry, opts.metricsAddress, log);
  }
  return {
    handle,
    ...(status ? { statusPort: status.port } : {}),
    ...(metrics ? { metricsUrl: metrics.url } : {}),
    async stop() {
      await metrics?.close();
      await handle.close();
      await chain;
      if (status) await new Promise((r) => status.server.close(r));
    },
  };
}
