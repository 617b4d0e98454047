// Prometheus metrics of a meshca process: prom-client's registry with the process defaults, served
// as text at /metrics on an address of its own (127.0.0.1 by default: scraping needs no admin
// token, so it is not opened to the network unless the operator says so).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Logger } from './logger.js';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** A registry with Node's process metrics (CPU, memory, event loop lag, GC). */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Gauges named like counters, which Prometheus's own lint (promtool check metrics) refuses; the
  // same counts stay available per type in nodejs_active_handles and nodejs_active_requests.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name);
  }
  return registry;
}

/** `host:port`, `:port` (localhost), or `off`. */
export function parseMetricsAddress(value: string): { host: string; port: number } | undefined {
  if (value === 'off') return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value);
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--metrics-address ${JSON.stringify(value)}: write HOST:PORT (e.g. 127.0.0.1:5680, 0.0.0.0:5680 to open it) or off`);
  }
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

export async function serveMetrics(registry: Registry, address: { host: string; port: number }, log?: Logger): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('metrics are at GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`collecting metrics failed: ${String(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(
              `--metrics-address ${address.host}:${address.port} is in use (another meshca process on this host?): pass another port, or off`,
            )
          : err,
      ),
    );
    server.listen(address.port, address.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/metrics`;
  log?.info({ metrics: url }, 'serving Prometheus metrics');
  return {
    url,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
