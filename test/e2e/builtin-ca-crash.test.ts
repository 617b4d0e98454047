// kill -9 of global on Redis right after each of the store writes an apply of a builtin Mesh makes:
// the Mesh and its CA Secrets land together or not at all, and the Mesh applies again at once.
// A TCP proxy between global and Redis counts the write scripts global sends and kills global the
// moment the chosen one has gone through, before anything after it can.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisStore } from '@meshca/store';
import { apiRequest, startGlobalProcess, startRedisServer, type GlobalProcess, type RedisServer } from '../src/index.js';

let redis: RedisServer | undefined;
let global: GlobalProcess | undefined;
let proxy: WriteCountingProxy | undefined;

afterEach(async () => {
  await global?.stop('SIGKILL');
  await proxy?.close();
  await redis?.stop();
  global = proxy = redis = undefined;
});

interface WriteCountingProxy {
  url: string;
  /** Calls `then` once the `n`th write script from now has reached Redis; nothing sent after it does. */
  afterWrites(n: number, then: () => Promise<void>): void;
  close(): Promise<void>;
}

/** Every store write is one EVALSHA (WRITE or COMMIT script), once a first write has loaded the scripts. */
async function startProxy(redisPort: number): Promise<WriteCountingProxy> {
  const sockets = new Set<Socket>();
  let armed: { left: number; then: () => Promise<void> } | undefined;
  let frozen = false;
  const server: Server = createServer((client) => {
    const upstream = connect(redisPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => {
      if (frozen) return;
      upstream.write(chunk);
      if (!armed) return;
      armed.left -= chunk.toString('latin1').split('\r\nevalsha\r\n').length - 1;
      if (armed.left <= 0) {
        frozen = true;
        const { then } = armed;
        armed = undefined;
        // Let Redis run the script it just received, then kill.
        setTimeout(() => void then(), 100);
      }
    });
    upstream.on('data', (chunk) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    afterWrites(n, then) {
      armed = { left: n, then };
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

const builtinMesh = (name: string) => ({
  type: 'Mesh',
  name,
  mtls: { enabledBackend: 'ca-1', backends: [{ name: 'ca-1', type: 'builtin' }] },
});

/** Every builtin CA Secret has its pair and the pair matches; a stored Mesh has its CA. Returns what is stored. */
async function storedState(url: string, mesh: string): Promise<{ mesh: boolean; key: boolean; cert: boolean }> {
  const store = await createRedisStore(url);
  try {
    const read = async (name: string) => {
      const r = await store.get({ type: 'Secret', mesh, name });
      return r === undefined ? undefined : Buffer.from(String((r.spec as { data?: string }).data), 'base64').toString();
    };
    const cert = await read(`${mesh}.ca-builtin-cert-ca-1`);
    const key = await read(`${mesh}.ca-builtin-key-ca-1`);
    if (cert !== undefined && key !== undefined) expect(new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))).toBe(true);
    return { mesh: (await store.get({ type: 'Mesh', name: mesh })) !== undefined, key: key !== undefined, cert: cert !== undefined };
  } finally {
    await store.close();
  }
}

describe('global killed between the store writes of a builtin CA', () => {
  it.each([1, 2, 3])(
    'killed after write %i: the Mesh and its CA are stored whole or not at all, and apply again at once',
    async (n) => {
      redis = await startRedisServer();
      proxy = await startProxy(redis.port);
      const dataDir = await mkdtemp(join(tmpdir(), 'meshca-crash-'));
      global = await startGlobalProcess({ dataDir, store: proxy.url });
      const g = global;
      // A first Mesh loads the write scripts into Redis, so every later write is one EVALSHA.
      expect((await apiRequest(g, 'PUT', '/meshes/warm-up', builtinMesh('warm-up'))).status).toBe(201);

      const killed = new Promise<void>((resolve) =>
        proxy?.afterWrites(n, async () => {
          await g.stop('SIGKILL');
          resolve();
        }),
      );
      const apply = apiRequest(g, 'PUT', '/meshes/default', builtinMesh('default')).catch((err: Error) => err);
      const first = await Promise.race([killed.then(() => 'killed' as const), apply.then(() => 'applied' as const)]);
      // An apply that makes fewer than n writes finished whole; the kill then comes after it.
      if (first === 'applied') await g.stop('SIGKILL');
      await apply;

      // Whole or nothing: the Mesh never without its CA, and the CA never half-made.
      const state = await storedState(redis.url, 'default');
      expect(state).toEqual({ mesh: state.key, key: state.key, cert: state.key });

      global = await startGlobalProcess({ dataDir, store: redis.url });
      const started = Date.now();
      const again = await apiRequest(global, 'PUT', '/meshes/default', builtinMesh('default'));
      expect([200, 201], again.text).toContain(again.status);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(await storedState(redis.url, 'default')).toEqual({ mesh: true, key: true, cert: true });
    },
    60_000,
  );
});
