// N simulated dataplanes against one zone identity service on a builtin mesh.
// Run: node --import tsx bench/dataplanes.ts [--dataplanes 10000] [--rate 5000] [--burst 500] [--plain | --haproxy] [--metrics] [--json]
// --haproxy: TLS terminated by HAProxy (apt-get install haproxy) in front of the plain zone; its RSS
// and CPU are reported next to the zone's, so the two add up to what the dataplanes cost.
//
// The service runs in a child process (so its RSS is its own, and each process stays under its
// file descriptor limit: the clients hold N sockets here, the service N there). Measures: time until
// all hold certificates from a cold start, identity latency p50/p99 (register sent -> identity
// received), service RSS and heap per connected dataplane (after a forced GC, minus the idle
// service), and the rotation of all after an enabledBackend switch with its peak rate vs the limit.
// The clients' TLS handshakes share the machine's cores with the zone, so the cold start is also
// given as CPU time: the zone's (all threads, and its event loop thread alone) and the clients'.
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeHeapSnapshot } from 'node:v8';
import WebSocket from 'ws';
import { createSelfSignedServerTls } from '@meshca/common';
import { freePort } from '../test/src/free-port.js';
import type { IdentityService } from '@meshca/identity';
import type { ZoneLeadership } from '../apps/zone/src/leadership.js';
import { startHaproxy, type Haproxy } from './haproxy.js';
import { numberFlag as flag } from './flags.js';

export interface DataplaneBenchOptions {
  dataplanes?: number;
  ratePerSecond?: number;
  burst?: number;
  /** Spread of re-issues after the switch. */
  rotationSpreadMs?: number;
  /** Connections being opened at once. */
  connectConcurrency?: number;
  /** Serve over TLS as a zone does (default); false measures the service without the TLS sockets' cost. */
  tls?: boolean;
  /** TLS terminated by HAProxy in front of the zone, which then serves plain WebSocket. */
  haproxy?: boolean;
  /** The zone's metrics on (its issuance observer and gauges), scraped every second. */
  metrics?: boolean;
}

export interface DataplaneBenchResult {
  dataplanes: number;
  tls: boolean;
  /** With --haproxy: the terminator's own cost, to add to the zone's. */
  haproxy?: { rssPerDataplane: number; cpuColdStartMs: number; rssMb: number };
  fdLimit: number;
  ratePerSecond: number;
  burst: number;
  /** First connect to the last dataplane holding a certificate. */
  coldStartMs: number;
  /** CPU time of the zone process (all threads: event loop and signing workers) during the cold start. */
  zoneCpuColdStartMs: number;
  /** CPU time of the zone's event loop thread alone (TLS handshakes, WebSocket, sessions) during the cold start. */
  zoneMainThreadCpuColdStartMs: number;
  /** CPU time of the bench's N clients (their TLS handshakes) during the cold start, on the same cores. */
  clientCpuColdStartMs: number;
  /**
   * The cold start the zone's own work allows with the machine's cores to itself:
   * max(event loop thread CPU, process CPU / cores). A lower bound; the clients' CPU is not in it.
   */
  coldStartZoneBoundMs: number;
  cores: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Service RSS growth per connected dataplane, bytes (forced GC before both readings). */
  rssPerDataplane: number;
  /** Service V8 heap growth per connected dataplane, bytes. */
  heapPerDataplane: number;
  serviceRssMb: number;
  /** enabledBackend switch to the last dataplane holding a certificate from the new backend. */
  switchRotationMs: number;
  /** Highest number of certificates received in any 1 s window during the switch. */
  switchPeakPerSec: number;
  /** With metrics on: the median time of one scrape of the zone's registry holding all dataplanes. */
  scrapeMs?: number;
}

type ToChild = { op: 'switch' } | { op: 'memory' } | { op: 'stop' };
type FromChild =
  | { op: 'ready'; port: number; tokens: string[] }
  | { op: 'memory'; rss: number; heapUsed: number; connected: number; cpuMs: number; mainThreadCpuMs: number; scrapeMs?: number }
  | { op: 'switched' };

const SELF = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------- service side (child process)

async function serve(): Promise<void> {
  const { createMemoryStore } = await import('@meshca/store');
  const { builtinCaWrites } = await import('@meshca/ca');
  const { createLogger, createSelfSignedServerTls } = await import('@meshca/common');
  const { createTokenIssuer, generateSigningKey } = await import('@meshca/tokens');
  const { attachDataplaneServer, createIdentityService } = await import('@meshca/identity');
  const cfg = JSON.parse(process.env.BENCH_CONFIG ?? '{}') as Required<DataplaneBenchOptions>;
  const log = createLogger({ name: 'bench-zone', level: 'error', pretty: false });
  const store = createMemoryStore();
  const tokens = createTokenIssuer({ keys: [await generateSigningKey()] });
  const backends = [
    { name: 'ca-1', type: 'builtin' as const, conf: {} },
    { name: 'ca-2', type: 'builtin' as const, conf: {} },
  ];
  const spec = { mtls: { enabledBackend: 'ca-1', backends } };
  await store.commit([
    ...(await builtinCaWrites({ store, mesh: 'default', spec, log })),
    { op: 'create', input: { meta: { type: 'Mesh', name: 'default' }, spec } },
  ]);
  // The zone's metrics as meshca-zone wires them, scraped every second (Prometheus's default is 15 s).
  const metrics = cfg.metrics ? await zoneMetrics() : undefined;
  // The signing workers start at a zone's first job. Started before the idle reading, they are
  // not counted as memory per dataplane: since they start lazily (the build change of issue 17),
  // two worker isolates were taken into the loaded reading and added ~8 KB to each of 10,000.
  const { createIssuerPool, generateCa } = await import('@meshca/pki');
  const pool = createIssuerPool({ workers: 2 });
  const warm = generateCa({ commonName: 'warm-up', keyType: 'ecdsa-p256', validitySeconds: 3600 });
  const warmIssuer = pool.issuer({ caCertPem: warm.certPem, caKeyPem: warm.keyPem });
  await Promise.all(
    Array.from({ length: 8 }, () =>
      warmIssuer.issue({ uriSans: ['spiffe://warm-up/x'], notBefore: new Date(), notAfter: new Date(Date.now() + 60_000) }),
    ),
  );
  const service = createIdentityService({
    ...(metrics ? { observer: metrics.observer } : {}),
    store,
    zone: 'bench',
    log,
    pool,
    verifyToken: (t) => tokens.verify(t, 'dataplane'),
    issuance: { ratePerSecond: cfg.ratePerSecond, burst: cfg.burst },
    rotationSpreadMs: cfg.rotationSpreadMs,
  });
  metrics?.watch(service);
  const tls = await createSelfSignedServerTls('bench', ['127.0.0.1']);
  const server = cfg.tls ? createServer({ cert: tls.certPem, key: tls.keyPem }) : createHttpServer();
  attachDataplaneServer(service, { server });
  await new Promise<void>((r) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, r));
  const list: string[] = [];
  for (let i = 0; i < cfg.dataplanes; i++) {
    list.push(
      await tokens.issueDataplaneToken({ mesh: 'default', name: `dp-${i}`, tags: { 'kuma.io/service': `svc-${i % 100}` }, validFor: 3600 }),
    );
  }
  const send = (m: FromChild) => process.send?.(m);
  process.on('message', (m: ToChild) => {
    if (m.op === 'memory') {
      // CPU first: the forced GCs below are the bench's, not the zone's.
      const cpu = process.cpuUsage();
      const mainCpu = mainThreadCpuMs();
      for (let i = 0; i < 3; i++) globalThis.gc?.();
      const mem = process.memoryUsage();
      // BENCH_ZONE_HEAP=<file>: a heap snapshot of the zone holding its dataplanes (what each one costs).
      if (process.env.BENCH_ZONE_HEAP && service.stats().connected > 0) writeHeapSnapshot(process.env.BENCH_ZONE_HEAP);
      send({
        op: 'memory',
        rss: mem.rss,
        heapUsed: mem.heapUsed,
        connected: service.stats().connected,
        cpuMs: (cpu.user + cpu.system) / 1000,
        mainThreadCpuMs: mainCpu,
        ...(metrics ? { scrapeMs: metrics.scrapeMs() } : {}),
      });
    } else if (m.op === 'switch') {
      void store.get({ type: 'Mesh', name: 'default' }).then(async (mesh) => {
        await store.update(
          { meta: { type: 'Mesh', name: 'default' }, spec: { mtls: { enabledBackend: 'ca-2', backends } } },
          mesh!.meta.version,
        );
        send({ op: 'switched' });
      });
    } else if (m.op === 'stop') {
      void service.close().then(() => process.exit(0));
    }
  });
  send({ op: 'ready', port: (server.address() as AddressInfo).port, tokens: list });
}

async function zoneMetrics() {
  const { createMetricsRegistry } = await import('@meshca/common');
  const { createIssuanceMetrics } = await import('../apps/zone/src/issuance-metrics.js');
  const { registerZoneMetrics } = await import('../apps/zone/src/metrics.js');
  const registry = createMetricsRegistry();
  const times: number[] = [];
  const kds = {
    status: () => ({ connected: true, lastRevision: 1, failures: 0, nacks: [], refused: [], connects: 1, bytesSent: 0, bytesReceived: 0 }),
  } as unknown as ZoneLeadership;
  return {
    observer: createIssuanceMetrics(registry),
    watch(service: IdentityService) {
      registerZoneMetrics(registry, { identity: () => service, kds });
      setInterval(() => {
        const start = performance.now();
        const all = service.stats().connected;
        void registry.metrics().then(() => {
          if (all > 0 && all === service.stats().known) times.push(performance.now() - start);
        });
      }, 1000).unref();
    },
    /** The median of the last 10 scrapes. */
    scrapeMs: () =>
      percentile(
        [...times.slice(-10)].sort((a, b) => a - b),
        50,
      ),
  };
}

/** CPU time of this process's main thread (Linux: /proc/self/task/<pid>/stat); NaN elsewhere. */
function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return Number.NaN;
  }
}

// ---------------------------------------------------------------- clients (this process)

function request<T extends FromChild['op']>(child: ChildProcess, message: ToChild, answer: T): Promise<Extract<FromChild, { op: T }>> {
  return new Promise((resolve) => {
    const on = (m: FromChild) => {
      if (m.op !== answer) return;
      child.off('message', on);
      resolve(m as Extract<FromChild, { op: T }>);
    };
    child.on('message', on);
    child.send(message);
  });
}

function fdLimit(): number {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n']).toString().trim());
  } catch {
    return Number.NaN;
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export async function runDataplaneBench(options: DataplaneBenchOptions = {}): Promise<DataplaneBenchResult> {
  const cfg: Required<DataplaneBenchOptions> = {
    dataplanes: 10_000,
    ratePerSecond: 5000,
    burst: 500,
    rotationSpreadMs: 2000,
    connectConcurrency: 200,
    tls: true,
    haproxy: false,
    metrics: false,
    ...options,
  };
  if (cfg.haproxy) cfg.tls = false; // the zone behind HAProxy serves plain WebSocket
  const limit = fdLimit();
  // HAProxy holds two sockets per dataplane (client and zone side).
  const perProcess = cfg.haproxy ? 2 * cfg.dataplanes : cfg.dataplanes;
  if (Number.isFinite(limit) && limit < perProcess + 200) {
    throw new Error(
      `ulimit -n is ${limit}: each process holds ${cfg.haproxy ? 'two sockets (HAProxy)' : 'one socket'} per dataplane; raise it (ulimit -n ${perProcess + 1000}) or pass --dataplanes ${Math.floor((limit - 200) / (perProcess / cfg.dataplanes))}`,
    );
  }
  const child = fork(SELF, ['--serve'], {
    // BENCH_ZONE_PROF=<dir>: a V8 CPU profile of the zone, for finding where its time goes.
    execArgv: [
      '--expose-gc',
      '--import',
      'tsx',
      ...(process.env.BENCH_ZONE_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_ZONE_PROF}`] : []),
    ],
    env: { ...process.env, BENCH_CONFIG: JSON.stringify(cfg) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let stopHaproxy: () => Promise<void> = () => Promise.resolve();
  try {
    const ready = await new Promise<Extract<FromChild, { op: 'ready' }>>((resolve, reject) => {
      child.once('message', (m: FromChild) => (m.op === 'ready' ? resolve(m) : reject(new Error('unexpected message'))));
      child.once('exit', (code) => reject(new Error(`bench zone exited with ${code}`)));
    });
    let haproxy: Haproxy | undefined;
    if (cfg.haproxy) {
      const front = await createSelfSignedServerTls('bench-haproxy', ['127.0.0.1']);
      haproxy = await startHaproxy({
        backendPort: ready.port,
        certPem: front.certPem,
        keyPem: front.keyPem,
        port: await freePort(),
        maxconn: cfg.dataplanes + 100,
      });
      stopHaproxy = () => haproxy?.stop() ?? Promise.resolve();
    }
    const haproxyIdle = haproxy ? { rss: await haproxy.rss(), cpuMs: await haproxy.cpuMs() } : undefined;
    const idle = await request(child, { op: 'memory' }, 'memory');
    const url = haproxy ? `wss://127.0.0.1:${haproxy.port}/dataplanes` : `${cfg.tls ? 'wss' : 'ws'}://127.0.0.1:${ready.port}/dataplanes`;
    const n = cfg.dataplanes;
    const latencies: number[] = [];
    const backendOf: string[] = new Array<string>(n);
    const arrivals: number[] = [];
    const sockets: WebSocket[] = [];
    let holding = 0;
    let allHolding: () => void = () => {};
    let switching = false;
    let onCa2 = 0;
    let allOnCa2: () => void = () => {};

    const start = performance.now();
    const clientCpuStart = process.cpuUsage();
    const open = (i: number) =>
      new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(url, {
          headers: { authorization: `Bearer ${ready.tokens[i]}` },
          rejectUnauthorized: false,
          perMessageDeflate: false,
        });
        sockets.push(ws);
        let sentAt = 0;
        ws.once('open', () => {
          sentAt = performance.now();
          ws.send(
            JSON.stringify({
              type: 'register',
              dataplane: {
                type: 'Dataplane',
                mesh: 'default',
                name: `dp-${i}`,
                networking: { address: '10.0.0.1', inbound: [{ port: 8080, tags: { 'kuma.io/service': `svc-${i % 100}` } }] },
              },
            }),
          );
          resolve();
        });
        ws.once('error', reject);
        ws.on('message', (data) => {
          const text = String(data);
          if (!text.startsWith('{"type":"identity"')) return;
          const backend = /"backend":"([^"]+)"/.exec(text)?.[1] ?? '';
          const first = backendOf[i] === undefined;
          backendOf[i] = backend;
          if (first) {
            latencies.push(performance.now() - sentAt);
            if (++holding === n) allHolding();
          } else if (switching && backend === 'ca-2') {
            arrivals.push(performance.now());
            if (++onCa2 === n) allOnCa2();
          }
        });
      });
    const holdingAll = new Promise<void>((r) => (allHolding = r));
    let next = 0;
    await Promise.all(
      Array.from({ length: cfg.connectConcurrency }, async () => {
        while (next < n) await open(next++);
      }),
    );
    await holdingAll;
    const coldStartMs = performance.now() - start;
    const clientCpu = process.cpuUsage(clientCpuStart);

    const haproxyLoaded = haproxy ? { rss: await haproxy.rss(), cpuMs: await haproxy.cpuMs() } : undefined;
    const loaded = await request(child, { op: 'memory' }, 'memory');
    const cores = availableParallelism();
    const zoneCpu = loaded.cpuMs - idle.cpuMs;
    const zoneMainCpu = loaded.mainThreadCpuMs - idle.mainThreadCpuMs;

    switching = true;
    const onCa2All = new Promise<void>((r) => (allOnCa2 = r));
    const switchStart = performance.now();
    await request(child, { op: 'switch' }, 'switched');
    await onCa2All;
    const switchRotationMs = performance.now() - switchStart;
    let peak = 0;
    for (let lo = 0, hi = 0; hi < arrivals.length; hi++) {
      while ((arrivals[hi] as number) - (arrivals[lo] as number) >= 1000) lo++;
      peak = Math.max(peak, hi - lo + 1);
    }

    for (const ws of sockets) ws.terminate();
    latencies.sort((a, b) => a - b);
    return {
      dataplanes: n,
      tls: cfg.tls,
      ...(haproxyIdle && haproxyLoaded
        ? {
            haproxy: {
              rssPerDataplane: Math.round((haproxyLoaded.rss - haproxyIdle.rss) / n),
              cpuColdStartMs: Math.round(haproxyLoaded.cpuMs - haproxyIdle.cpuMs),
              rssMb: Math.round(haproxyLoaded.rss / 2 ** 20),
            },
          }
        : {}),
      fdLimit: limit,
      ratePerSecond: cfg.ratePerSecond,
      burst: cfg.burst,
      coldStartMs: Math.round(coldStartMs),
      zoneCpuColdStartMs: Math.round(zoneCpu),
      zoneMainThreadCpuColdStartMs: Math.round(zoneMainCpu),
      clientCpuColdStartMs: Math.round((clientCpu.user + clientCpu.system) / 1000),
      coldStartZoneBoundMs: Math.round(Math.max(zoneMainCpu, zoneCpu / cores)),
      cores,
      latencyP50Ms: Math.round(percentile(latencies, 50) * 10) / 10,
      latencyP99Ms: Math.round(percentile(latencies, 99) * 10) / 10,
      rssPerDataplane: Math.round((loaded.rss - idle.rss) / n),
      heapPerDataplane: Math.round((loaded.heapUsed - idle.heapUsed) / n),
      serviceRssMb: Math.round(loaded.rss / 2 ** 20),
      switchRotationMs: Math.round(switchRotationMs),
      switchPeakPerSec: peak,
      ...(loaded.scrapeMs !== undefined && Number.isFinite(loaded.scrapeMs) ? { scrapeMs: Math.round(loaded.scrapeMs * 10) / 10 } : {}),
    };
  } finally {
    await stopHaproxy();
    child.send({ op: 'stop' } satisfies ToChild);
    await new Promise((r) => {
      const t = setTimeout(
        () => {
          child.kill('SIGKILL');
          r(undefined);
        },
        process.env.BENCH_ZONE_PROF ? 60_000 : 5000,
      );
      child.once('exit', () => {
        clearTimeout(t);
        r(undefined);
      });
    });
  }
}

export function formatDataplaneBench(r: DataplaneBenchResult): string {
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return [
    `dataplanes                      ${r.dataplanes} over ${r.haproxy ? 'TLS terminated by HAProxy, plain ws to the zone (--haproxy)' : r.tls ? 'TLS (wss)' : 'plain ws (--plain)'}  (ulimit -n ${r.fdLimit})`,
    `issuance limit                  ${r.ratePerSecond}/s, burst ${r.burst}`,
    `cold start: all hold a cert     ${(r.coldStartMs / 1000).toFixed(1)} s`,
    `  CPU: zone / its event loop    ${s(r.zoneCpuColdStartMs)} / ${s(r.zoneMainThreadCpuColdStartMs)}  (clients ${s(r.clientCpuColdStartMs)}, same ${r.cores} cores)`,
    `  zone-bound cold start         ${s(r.coldStartZoneBoundMs)}  (max(event loop CPU, zone CPU / ${r.cores} cores))`,
    `identity latency p50 / p99      ${r.latencyP50Ms} ms / ${r.latencyP99Ms} ms`,
    `service RSS per dataplane       ${kb(r.rssPerDataplane)}  (heap ${kb(r.heapPerDataplane)}; service RSS ${r.serviceRssMb} MB)`,
    ...(r.haproxy
      ? [
          `HAProxy RSS per dataplane       ${kb(r.haproxy.rssPerDataplane)}  (HAProxy RSS ${r.haproxy.rssMb} MB; CPU during the cold start ${s(r.haproxy.cpuColdStartMs)})`,
          `zone + HAProxy per dataplane    ${kb(r.rssPerDataplane + r.haproxy.rssPerDataplane)}`,
        ]
      : []),
    `enabledBackend switch: all      ${(r.switchRotationMs / 1000).toFixed(1)} s`,
    `  peak re-issue rate            ${r.switchPeakPerSec}/s  (limit ${r.ratePerSecond}/s + burst ${r.burst})`,
    ...(r.scrapeMs === undefined ? [] : [`metrics: one scrape, all held    ${r.scrapeMs} ms`]),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes('--serve')) {
    void serve();
  } else {
    const opts: DataplaneBenchOptions = {};
    const d = flag('dataplanes');
    const rate = flag('rate');
    const burst = flag('burst');
    if (d !== undefined) opts.dataplanes = d;
    if (rate !== undefined) opts.ratePerSecond = rate;
    if (burst !== undefined) opts.burst = burst;
    if (process.argv.includes('--plain')) opts.tls = false;
    if (process.argv.includes('--haproxy')) opts.haproxy = true;
    if (process.argv.includes('--metrics')) opts.metrics = true;
    const r = await runDataplaneBench(opts);
    process.stdout.write(process.argv.includes('--json') ? `${JSON.stringify(r)}\n` : `${formatDataplaneBench(r)}\n`);
    process.exit(0);
  }
}
