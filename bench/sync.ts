// Global-to-zone sync: propagation of one Mesh change to every zone, and a new zone's full sync.
// Run: node --import tsx bench/sync.ts [--store memory|redis|both] [--meshes 1000] [--secrets-per-mesh 5]
//        [--zones 10] [--changes 100] [--json]      (about 30 s per store; prints a table, exits)
//
// Global runs in a child process (startGlobal, its own event loop and its own HTTPS API), seeded
// through its store; the zones run in this process (startZone, real TLS KDS streams to the child),
// so a zone's store watch gives the exact moment it holds a change, on the same clock as the PUT.
// The ten zones share one event loop here: every change is applied ten times on one thread,
// which makes the propagation figure pessimistic rather than flattering.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ResourceStore } from '@meshca/store';
import { flag } from './flags.js';

export type SyncStoreKind = 'memory' | 'redis';

export interface SyncBenchOptions {
  store?: SyncStoreKind;
  meshes?: number;
  secretsPerMesh?: number;
  /** Size of each Secret's data before base64 (a builtin CA's certificate or key is about this size). */
  secretBytes?: number;
  /** Zones connected while the changes are measured. */
  zones?: number;
  /** Mesh changes measured (after a few unmeasured warm-up changes). */
  changes?: number;
  /** How many times a new zone's full sync is measured (a fresh zone each time). */
  fullSyncRuns?: number;
  /** An existing Redis (redis://host:port) for store 'redis'; otherwise one is started. */
  redisUrl?: string;
}

export interface SyncBenchResult {
  store: SyncStoreKind;
  meshes: number;
  secrets: number;
  zones: number;
  changes: number;
  /** Writing the data set into global's store (not a sync figure; for context). */
  seedMs: number;
  /** All zones started at once until every one holds the whole data set. */
  initialSyncAllZonesMs: number;
  /** PUT sent on global's API until every zone's store holds the change. */
  propagationP50Ms: number;
  propagationP99Ms: number;
  propagationMaxMs: number;
  /** The PUT's own round trip (validate, store, answer). */
  putP50Ms: number;
  putP99Ms: number;
  /** PUT answer received until every zone holds the change (0 when the zones were first). */
  afterPutP50Ms: number;
  afterPutP99Ms: number;
  /** startZone() called until the new zone's store holds every Mesh, Secret and GlobalSecret; one per run. */
  fullSyncMs: number[];
  fullSyncMedianMs: number;
}

export const SYNC_TARGETS = { propagationP99Ms: 100, fullSyncMs: 2000 } as const;

interface GlobalConfig {
  store: string;
  meshes: number;
  secretsPerMesh: number;
  secretBytes: number;
  zoneTokens: string[];
}

type FromGlobal = {
  op: 'ready';
  apiUrl: string;
  apiCaFile: string;
  syncUrl: string;
  syncCaFile: string;
  adminToken: string;
  tokens: Record<string, string>;
  /** Meshes, Secrets and GlobalSecrets in global's store: what a zone holds after a full sync. */
  synced: number;
  seedMs: number;
};

const SELF = fileURLToPath(import.meta.url);
const SYNCED_TYPES = new Set(['Mesh', 'Secret', 'GlobalSecret']);

export function meshName(i: number): string {
  return `bench-${String(i).padStart(4, '0')}`;
}

function meshSpec(path: string): Record<string, unknown> {
  return { logging: { defaultBackend: 'file', backends: [{ name: 'file', type: 'file', conf: { path } }] } };
}

// ---------------------------------------------------------------- global (child process)

async function serveGlobal(): Promise<void> {
  const { startGlobal } = await import('@meshca/global');
  const { createLogger } = await import('@meshca/common');
  const cfg = JSON.parse(process.env.BENCH_SYNC_CONFIG ?? '{}') as GlobalConfig;
  const dataDir = await mkdtemp(join(tmpdir(), 'meshca-bench-global-'));
  const log = createLogger({ name: 'bench-global', level: 'error', pretty: false });
  const global = await startGlobal({ dataDir, store: cfg.store, apiAddress: '127.0.0.1', apiPort: 0, log });

  // Straight through the store: the data set is context, the measured change goes through the API.
  const started = performance.now();
  const writes: (() => Promise<unknown>)[] = [];
  for (let m = 0; m < cfg.meshes; m++) {
    const mesh = meshName(m);
    writes.push(() => global.store.create({ meta: { type: 'Mesh', name: mesh }, spec: meshSpec(`/var/log/mesh/${mesh}`) }));
  }
  for (let m = 0; m < cfg.meshes; m++) {
    for (let s = 0; s < cfg.secretsPerMesh; s++) {
      const data = randomBytes(cfg.secretBytes).toString('base64');
      writes.push(() => global.store.create({ meta: { type: 'Secret', name: `secret-${s}`, mesh: meshName(m) }, spec: { data } }));
    }
  }
  // Meshes before their secrets, each batch in parallel (Redis round trips overlap).
  for (let i = 0; i < writes.length; i += 100) await Promise.all(writes.slice(i, i + 100).map((w) => w()));
  const seedMs = performance.now() - started;

  const tokens: Record<string, string> = {};
  for (const zone of cfg.zoneTokens) tokens[zone] = await global.tokens.issueZoneToken({ zone, validFor: 3600 });
  let synced = 0;
  for (const type of SYNCED_TYPES) synced += (await global.store.list(type as 'Mesh')).length;

  process.on('message', (m: { op: 'stop' }) => {
    if (m.op !== 'stop') return;
    void global.close().finally(async () => {
      await rm(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  });
  const ready: FromGlobal = {
    op: 'ready',
    apiUrl: global.apiUrl,
    apiCaFile: global.apiCaFile ?? '',
    syncUrl: global.syncUrl,
    syncCaFile: global.syncCaFile ?? '',
    adminToken: (await readFile(global.adminTokenFile, 'utf8')).trim(),
    tokens,
    synced,
    seedMs,
  };
  process.send?.(ready);
}

// ---------------------------------------------------------------- zones and measurements (this process)

/** Nearest rank: the smallest value with at least p% of the samples at or below it (p99 of 100 is the 99th). */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const round1 = (v: number): number => Math.round(v * 10) / 10;

/** Resolves when `store` holds `expected` resources of the synced types (replays its feed from the start). */
function holdsAll(store: ResourceStore, expected: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const held = new Set<string>();
    let stop: () => void = () => {};
    let done = false;
    stop = store.watch(
      0,
      (ev) => {
        if (done || !SYNCED_TYPES.has(ev.key.type)) return;
        const id = `${ev.key.type}/${ev.key.mesh ?? ''}/${ev.key.name}`;
        if (ev.op === 'upsert') held.add(id);
        else held.delete(id);
        if (held.size >= expected) {
          done = true;
          const at = performance.now();
          queueMicrotask(() => stop());
          resolve(at);
        }
      },
      () =>
        reject(new Error('the zone store feed was compacted before the full sync was seen: raise feedRetention or use fewer resources')),
    );
  });
}

function put(agent: Agent, apiUrl: string, token: string, path: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request(
      `${apiUrl}${path}`,
      {
        method: 'PUT',
        agent,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () =>
          res.statusCode === 200 || res.statusCode === 201
            ? resolve(res.statusCode)
            : reject(new Error(`PUT ${path}: ${res.statusCode} ${text}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export async function runSyncBench(options: SyncBenchOptions = {}): Promise<SyncBenchResult> {
  const cfg = {
    store: 'memory' as SyncStoreKind,
    meshes: 1000,
    secretsPerMesh: 5,
    secretBytes: 768,
    zones: 10,
    changes: 100,
    fullSyncRuns: 3,
    ...options,
  };
  const { startZone } = await import('@meshca/zone');
  const { createLogger } = await import('@meshca/common');
  const log = createLogger({ name: 'bench-zone', level: 'error', pretty: false });
  const cleanup: (() => Promise<unknown>)[] = [];

  let redisUrl = cfg.redisUrl;
  if (cfg.store === 'redis' && redisUrl === undefined) {
    const { startRedisServer } = await import('../test/src/redis-server.js');
    const redis = await startRedisServer();
    cleanup.unshift(() => redis.stop());
    redisUrl = redis.url;
  }
  const storeFor = (prefix: string): string => (cfg.store === 'redis' ? `${redisUrl}?prefix=bench-${prefix}:` : 'memory');
  const zoneNames = Array.from({ length: cfg.zones + cfg.fullSyncRuns }, (_, i) => `zone-${i + 1}`);

  try {
    const child: ChildProcess = fork(SELF, ['--global'], {
      execArgv: ['--import', 'tsx'],
      env: {
        ...process.env,
        BENCH_SYNC_CONFIG: JSON.stringify({
          store: storeFor('global'),
          meshes: cfg.meshes,
          secretsPerMesh: cfg.secretsPerMesh,
          secretBytes: cfg.secretBytes,
          zoneTokens: zoneNames,
        } satisfies GlobalConfig),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    cleanup.unshift(() => stopChild(child));
    const g = await new Promise<FromGlobal>((resolve, reject) => {
      child.once('message', (m: FromGlobal) => resolve(m));
      child.once('exit', (code) => reject(new Error(`bench global exited with ${code}`)));
    });

    type Zone = Awaited<ReturnType<typeof startZone>>;
    const open = async (zone: string): Promise<Zone> => {
      const dataDir = await mkdtemp(join(tmpdir(), `meshca-bench-${zone}-`));
      cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
      const z = await startZone({
        zone,
        globalUrl: g.syncUrl,
        zoneToken: g.tokens[zone] ?? '',
        globalCaFile: g.syncCaFile,
        dataDir,
        store: storeFor(zone),
        apiAddress: '127.0.0.1',
        apiPort: 0,
        log,
        signingWorkers: 0, // no dataplanes here: no signing threads
      });
      let closing: Promise<void> | undefined;
      const close = (): Promise<void> => (closing ??= z.close());
      cleanup.unshift(close);
      return { ...z, close };
    };

    // ---- all zones at once, each with a full snapshot
    const startAll = performance.now();
    const zones = await Promise.all(zoneNames.slice(0, cfg.zones).map(open));
    await Promise.all(zones.map((z) => holdsAll(z.store, g.synced)));
    const initialSyncAllZonesMs = performance.now() - startAll;

    // ---- one Mesh change at a time, PUT on global until every zone's store holds it
    const waiting = new Map<string, { left: number; done: (at: number) => void }>();
    for (const z of zones) {
      const from = await z.store.revision();
      const stop = z.store.watch(from, (ev) => {
        if (ev.op !== 'upsert' || ev.key.type !== 'Mesh') return;
        const spec = ev.resource?.spec as { logging?: { backends?: { conf?: { path?: string } }[] } } | undefined;
        const w = waiting.get(spec?.logging?.backends?.[0]?.conf?.path ?? '');
        if (w !== undefined && --w.left === 0) w.done(performance.now());
      });
      cleanup.unshift(async () => stop());
    }
    const agent = new Agent({ keepAlive: true, ca: await readFile(g.apiCaFile) });
    cleanup.unshift(async () => agent.destroy());
    const propagation: number[] = [];
    const putMs: number[] = [];
    const afterPut: number[] = [];
    const warmUp = 5;
    for (let i = 0; i < cfg.changes + warmUp; i++) {
      const mesh = meshName((i * 397) % cfg.meshes);
      const path = `/var/log/change/${i}-${randomBytes(4).toString('hex')}`;
      const held = new Promise<number>((resolve) => waiting.set(path, { left: zones.length, done: resolve }));
      const sent = performance.now();
      await put(agent, g.apiUrl, g.adminToken, `/meshes/${mesh}`, { type: 'Mesh', name: mesh, ...meshSpec(path) });
      const answered = performance.now();
      const allHeld = await held;
      waiting.delete(path);
      if (i >= warmUp) {
        propagation.push(allHeld - sent);
        putMs.push(answered - sent);
        afterPut.push(Math.max(0, allHeld - answered));
      }
      await new Promise((r) => setTimeout(r, 20)); // one change at a time, not a burst
    }

    // ---- a new zone joining: startZone until its store holds the data set
    const fullSyncMs: number[] = [];
    for (const zone of zoneNames.slice(cfg.zones)) {
      const started = performance.now();
      const z = await open(zone);
      const at = await holdsAll(z.store, g.synced);
      fullSyncMs.push(Math.round(at - started));
      await z.close();
    }

    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    const p = sorted(propagation);
    const q = sorted(putMs);
    const a = sorted(afterPut);
    return {
      store: cfg.store,
      meshes: cfg.meshes,
      secrets: cfg.meshes * cfg.secretsPerMesh,
      zones: cfg.zones,
      changes: cfg.changes,
      seedMs: Math.round(g.seedMs),
      initialSyncAllZonesMs: Math.round(initialSyncAllZonesMs),
      propagationP50Ms: round1(percentile(p, 50)),
      propagationP99Ms: round1(percentile(p, 99)),
      propagationMaxMs: round1(p.at(-1) ?? Number.NaN),
      putP50Ms: round1(percentile(q, 50)),
      putP99Ms: round1(percentile(q, 99)),
      afterPutP50Ms: round1(percentile(a, 50)),
      afterPutP99Ms: round1(percentile(a, 99)),
      fullSyncMs,
      fullSyncMedianMs: percentile(sorted(fullSyncMs), 50),
    };
  } finally {
    for (const c of cleanup) await c().catch(() => undefined);
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.send({ op: 'stop' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export function formatSyncBench(r: SyncBenchResult): string {
  const ms = (v: number): string => `${v.toFixed(1)} ms`;
  const mark = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  return [
    `global -> zone sync, ${r.store} store: ${r.meshes} Meshes + ${r.secrets} Secrets, ${r.zones} zones (global in a child process)`,
    `  ${r.zones} zones' first full sync, all at once  ${(r.initialSyncAllZonesMs / 1000).toFixed(2)} s   (seeding global: ${(r.seedMs / 1000).toFixed(2)} s)`,
    `  Mesh change, PUT sent -> all ${r.zones} zones hold it  p50 ${ms(r.propagationP50Ms)}  p99 ${ms(r.propagationP99Ms)}  (max ${ms(r.propagationMaxMs)}, n=${r.changes})  target p99 < ${SYNC_TARGETS.propagationP99Ms} ms: ${mark(r.propagationP99Ms < SYNC_TARGETS.propagationP99Ms)}`,
    `    of which the PUT round trip             p50 ${ms(r.putP50Ms)}  p99 ${ms(r.putP99Ms)}`,
    `    PUT answered -> all zones hold it       p50 ${ms(r.afterPutP50Ms)}  p99 ${ms(r.afterPutP99Ms)}`,
    `  new zone full sync (startZone -> all held) ${r.fullSyncMs.map((v) => `${v} ms`).join(', ')}  median ${r.fullSyncMedianMs} ms  target < ${SYNC_TARGETS.fullSyncMs} ms: ${mark(r.fullSyncMedianMs < SYNC_TARGETS.fullSyncMs)}`,
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes('--global')) {
    await serveGlobal();
  } else {
    const which = flag('store') ?? 'both';
    const stores: SyncStoreKind[] = which === 'both' ? ['memory', 'redis'] : [which as SyncStoreKind];
    const opts: SyncBenchOptions = {};
    for (const [f, k] of [
      ['meshes', 'meshes'],
      ['secrets-per-mesh', 'secretsPerMesh'],
      ['zones', 'zones'],
      ['changes', 'changes'],
    ] as const) {
      const v = flag(f);
      if (v !== undefined) opts[k] = Number(v);
    }
    const results: SyncBenchResult[] = [];
    for (const store of stores) {
      const started = performance.now();
      const r = await runSyncBench({ ...opts, store });
      results.push(r);
      if (!process.argv.includes('--json'))
        console.log(`${formatSyncBench(r)}\n  (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    }
    if (process.argv.includes('--json')) console.log(JSON.stringify(results, null, 2));
    process.exit(0);
  }
}
