// Fault runs with real processes, shared by test/e2e/faults.test.ts (which asserts on them) and
// `npm run bench -- --only faults` (which prints their figures): global killed during concurrent
// applies on Redis, Redis restarted under load, and a zone killed and restarted with global down.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectIdentity, type IdentityHandle } from '@meshca/dp-agent';
import { createRedisStore, type ResourceStore } from '@meshca/store';
import { apiRequest, type ApiReply } from './api-request.js';
import { startGlobalProcess, type GlobalProcess } from './global-process.js';
import { startMeshEnv } from './mesh-env.js';
import { startRedisServer, type RedisServer } from './redis-server.js';
import { eventually } from './eventually.js';
import { fixture } from './fixtures.js';

const builtinMesh = (name: string, marker: string) => ({
  type: 'Mesh',
  name,
  labels: { marker },
  mtls: { enabledBackend: 'ca-1', backends: [{ name: 'ca-1', type: 'builtin' }] },
});
const secretOf = (mesh: string, name: string, marker: string) => ({
  type: 'Secret',
  name,
  mesh,
  data: Buffer.from(marker).toString('base64'),
});

export interface Acked {
  path: string;
  marker: string;
}

/** Writers that PUT until stopped; every write global answered 200/201 is remembered with its content. */
export function startWriters(
  target: () => Pick<GlobalProcess, 'apiUrl' | 'caFile' | 'tokenFile'> | undefined,
  opts: { writers: number; prefix: string },
) {
  const acked: Acked[] = [];
  const refused = new Map<number, number>();
  let running = true;
  let n = 0;
  const loop = async (w: number) => {
    while (running) {
      const g = target();
      if (g === undefined) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const i = n++;
      const mesh = `${opts.prefix}-${w}-${i}`;
      const marker = `${mesh}-${Math.random().toString(36).slice(2)}`;
      // A Mesh with a builtin CA (three resources in one commit), then a Secret in it.
      const writes: [string, unknown][] = [
        [`/meshes/${mesh}`, builtinMesh(mesh, marker)],
        [`/meshes/${mesh}/secrets/s`, secretOf(mesh, 's', marker)],
      ];
      for (const [path, body] of writes) {
        let reply: ApiReply | undefined;
        try {
          reply = await apiRequest(g, 'PUT', path, body, { timeoutMs: 10_000 });
        } catch {
          reply = undefined; // connection refused or reset: not acknowledged
        }
        if (reply !== undefined && (reply.status === 200 || reply.status === 201)) acked.push({ path, marker });
        else {
          const status = reply?.status ?? 0;
          refused.set(status, (refused.get(status) ?? 0) + 1);
          break;
        }
      }
    }
  };
  const loops = Array.from({ length: opts.writers }, (_, w) => loop(w));
  return {
    acked,
    refused,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** What of the acknowledged writes is missing, and which builtin CAs are half-made, in the store as it is. */
export async function audit(store: ResourceStore, acked: Acked[]): Promise<{ lost: string[]; halfWritten: string[] }> {
  const lost: string[] = [];
  for (const a of acked) {
    const [, , mesh, , secret] = a.path.split('/');
    const r =
      secret === undefined
        ? await store.get({ type: 'Mesh', name: mesh as string })
        : await store.get({ type: 'Secret', mesh: mesh as string, name: secret });
    const marker =
      secret === undefined
        ? r?.meta.labels.marker
        : r === undefined
          ? undefined
          : Buffer.from(String((r.spec as { data?: string }).data), 'base64').toString();
    if (marker !== a.marker) lost.push(a.path);
  }
  const halfWritten: string[] = [];
  const secrets = new Map(
    (await store.list('Secret')).map((s) => [
      `${s.meta.mesh}/${s.meta.name}`,
      Buffer.from(String((s.spec as { data?: string }).data), 'base64').toString(),
    ]),
  );
  for (const m of await store.list('Mesh')) {
    // Only a Mesh on the builtin CA ca-1 (what the writers apply) has CA Secrets to check.
    const backends = (m.spec as { mtls?: { backends?: { name: string; type: string }[] } }).mtls?.backends ?? [];
    if (!backends.some((b) => b.name === 'ca-1' && b.type === 'builtin')) continue;
    const cert = secrets.get(`${m.meta.name}/${m.meta.name}.ca-builtin-cert-ca-1`);
    const key = secrets.get(`${m.meta.name}/${m.meta.name}.ca-builtin-key-ca-1`);
    if (cert === undefined || key === undefined || !new X509Certificate(cert).checkPrivateKey(createPrivateKey(key)))
      halfWritten.push(m.meta.name);
  }
  for (const [id] of secrets) {
    const m = /^([^/]+)\/\1\.ca-builtin-(cert|key)-ca-1$/.exec(id);
    if (m && !secrets.has(`${m[1]}/${m[1]}.ca-builtin-${m[2] === 'cert' ? 'key' : 'cert'}-ca-1`))
      halfWritten.push(`${id} without its pair`);
  }
  return { lost, halfWritten };
}

export interface KillGlobalResult {
  rounds: number;
  acknowledged: number;
  lost: string[];
  halfWritten: string[];
  /** Writes in flight when global died (no answer). */
  unanswered: number;
}

/** kill -9 of global on Redis at a random moment of each round of concurrent applies. */
export async function killGlobalDuringApplies(opts: { rounds?: number; writers?: number } = {}): Promise<KillGlobalResult> {
  const rounds = opts.rounds ?? 5;
  const redis = await startRedisServer();
  const dataDir = await mkdtemp(join(tmpdir(), 'meshca-fault-'));
  let global: GlobalProcess | undefined;
  const writers = startWriters(() => global, { writers: opts.writers ?? 6, prefix: 'k' });
  try {
    for (let round = 0; round < rounds; round++) {
      global = await startGlobalProcess({ dataDir, store: redis.url });
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 500));
      const g = global;
      global = undefined;
      await g.stop('SIGKILL');
    }
    await writers.stop();
    const store = await createRedisStore(redis.url);
    try {
      const { lost, halfWritten } = await audit(store, writers.acked);
      return { rounds, acknowledged: writers.acked.length, lost, halfWritten, unanswered: writers.refused.get(0) ?? 0 };
    } finally {
      await store.close();
    }
  } finally {
    await writers.stop();
    await global?.stop('SIGKILL');
    await redis.stop();
  }
}

export interface RedisRestartResult {
  acknowledged: number;
  lost: string[];
  halfWritten: string[];
  /** Answers while Redis was down, by status (0: no answer). */
  refusedWhileDown: Record<string, number>;
  /** From Redis answering again to global's first acknowledged write. */
  recoveryMs: number;
  /** How long the writers' slowest answer took while Redis was down (fail fast, not hang). */
  slowestRefusalMs: number;
}

/** Redis stopped for `downMs` and started again while writers apply through global. */
export async function restartRedisUnderLoad(opts: { downMs?: number; writers?: number } = {}): Promise<RedisRestartResult> {
  const redis: RedisServer = await startRedisServer();
  const global = await startGlobalProcess({ store: redis.url });
  const writers = startWriters(() => global, { writers: opts.writers ?? 4, prefix: 'r' });
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const before = new Map(writers.refused);
    await redis.down();
    const probeStart = Date.now();
    const probe = await apiRequest(global, 'PUT', '/meshes/probe', builtinMesh('probe', 'p')).catch(() => undefined);
    const slowestRefusalMs = Date.now() - probeStart;
    if (probe?.status !== 503) throw new Error(`a write while Redis is down answered ${probe?.status ?? 'nothing'}, not 503`);
    await new Promise((r) => setTimeout(r, opts.downMs ?? 1500));
    const refusedWhileDown: Record<string, number> = {};
    for (const [status, n] of writers.refused) refusedWhileDown[String(status)] = n - (before.get(status) ?? 0);
    const ackedBefore = writers.acked.length;
    await redis.up();
    const up = Date.now();
    await eventually(
      async () => {
        if (writers.acked.length <= ackedBefore) throw new Error('no write acknowledged since Redis came back');
      },
      30_000,
      10,
    );
    const recoveryMs = Date.now() - up;
    await new Promise((r) => setTimeout(r, 500));
    await writers.stop();
    const store = await createRedisStore(redis.url);
    try {
      const { lost, halfWritten } = await audit(store, writers.acked);
      return { acknowledged: writers.acked.length, lost, halfWritten, refusedWhileDown, recoveryMs, slowestRefusalMs };
    } finally {
      await store.close();
    }
  } finally {
    await writers.stop();
    await global.stop('SIGKILL');
    await redis.stop();
  }
}

export interface ZoneRestartResult {
  store: 'memory' | 'redis';
  /** Global was down while the zone restarted (a zone on memory needs global to serve anything). */
  globalDown: boolean;
  dataplanes: number;
  /** The restarted zone process's own start, until its API listens. */
  zoneStartMs: number;
  /** From the zone listening again until every dataplane is connected to it again. */
  reconnectedMs: number;
  /** From the zone listening again until every dataplane holds a certificate the restarted zone issued. */
  reissuedMs: number;
  /** Every dataplane held a valid certificate throughout. */
  keptValidCertificates: boolean;
}

/**
 * A zone killed (-9) and started again on the same port, its dataplanes using meshca-dp's default
 * reconnect backoff. On Redis global is down meanwhile (the zone serves what it holds); a zone on
 * memory starts empty, so global stays up for it.
 */
export async function restartZone(opts: { store: 'memory' | 'redis'; dataplanes?: number; downMs?: number }): Promise<ZoneRestartResult> {
  const count = opts.dataplanes ?? 10;
  const downMs = opts.downMs ?? 3000;
  const globalDown = opts.store === 'redis';
  const redis = opts.store === 'redis' ? await startRedisServer() : undefined;
  const env = await startMeshEnv({ zones: ['zone-1'], ...(redis ? { zoneStores: { 'zone-1': `${redis.url}?prefix=zone-1:` } } : {}) });
  const handles: IdentityHandle[] = [];
  try {
    const applied = await env.meshctlInput(fixture('mesh-builtin.yaml'), 'apply', '-f', '-');
    if (applied.code !== 0) throw new Error(applied.stderr);
    const zone = env.zones['zone-1']!;
    const ca = await readFile(zone.caFile, 'utf8');
    for (let i = 0; i < count; i++) {
      const name = `dp-${i}`;
      const token = await env.dataplaneToken({ mesh: 'default', name, tags: { 'kuma.io/service': 'svc' } });
      // The agent's own default reconnect backoff: that is what is measured.
      handles.push(
        connectIdentity({
          zone: zone.apiUrl,
          token,
          ca,
          dataplane: {
            mesh: 'default',
            name,
            networking: { address: '127.0.0.1', inbound: [{ port: 1, tags: { 'kuma.io/service': 'svc' } }] },
          },
        }),
      );
    }
    await Promise.all(handles.map((h) => h.ready(30_000)));
    const before = handles.map((h) => h.current()?.serial);
    if (globalDown) await env.global.stop();
    await zone.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, downMs));
    const startAt = Date.now();
    await env.restartZone('zone-1');
    const listening = Date.now();
    let keptValidCertificates = true;
    const valid = () => {
      for (const h of handles) if ((h.current()?.notAfter.getTime() ?? 0) <= Date.now()) keptValidCertificates = false;
    };
    await eventually(
      async () => {
        valid();
        if (!handles.every((h) => h.status().connected)) throw new Error('not every dataplane is back');
      },
      60_000,
      20,
    );
    const reconnectedMs = Date.now() - listening;
    await eventually(
      async () => {
        valid();
        if (!handles.every((h, i) => h.current()?.serial !== before[i])) throw new Error('not every dataplane was issued again');
      },
      60_000,
      20,
    );
    const reissuedMs = Date.now() - listening;
    valid();
    return {
      store: opts.store,
      globalDown,
      dataplanes: count,
      zoneStartMs: listening - startAt,
      reconnectedMs,
      reissuedMs,
      keptValidCertificates,
    };
  } finally {
    await Promise.all(handles.map((h) => h.close().catch(() => undefined)));
    await env.stop().catch(() => undefined);
    await redis?.stop();
  }
}
