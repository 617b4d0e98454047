// Redis away under global: a request fails fast with 503 and Retry-After (as /readyz says) instead
// of hanging for the client's reconnect attempts, and global serves again once Redis is back.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@meshca/common';
import { apiRequest, eventually, startRedisServer, type RedisServer } from '@meshca/test';
import { startGlobal, type GlobalControlPlane } from '../src/global-cp.js';

let redis: RedisServer;
let cp: GlobalControlPlane;
const logs: string[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  const dataDir = await mkdtemp(join(tmpdir(), 'meshca-outage-'));
  const log = createLogger({ name: 'test', level: 'info', destination: { write: (line) => void logs.push(line) } });
  cp = await startGlobal({ dataDir, apiAddress: '127.0.0.1', apiPort: 0, store: redis.url, log });
});

afterAll(async () => {
  await cp?.close().catch(() => undefined);
  await redis?.stop();
});

describe('store outage', () => {
  it('answers 503 with Retry-After at once while Redis is down, and serves again when it is back', async () => {
    const target = { apiUrl: cp.apiUrl, caFile: cp.apiCaFile as string, tokenFile: cp.adminTokenFile };
    const mesh = (name: string) => ({ type: 'Mesh', name });
    expect((await apiRequest(target, 'PUT', '/meshes/before', mesh('before'))).status).toBe(201);

    await redis.down();
    const started = Date.now();
    const write = await apiRequest(target, 'PUT', '/meshes/during', mesh('during'));
    const read = await apiRequest(target, 'GET', '/meshes/before');
    expect(Date.now() - started).toBeLessThan(2000);
    for (const r of [write, read]) {
      expect(r.status).toBe(503);
      expect(r.json).toMatchObject({ status: 503, title: 'Store unavailable', detail: expect.stringContaining('try again shortly') });
      expect(r.headers['retry-after']).toBe('2');
    }
    expect((await apiRequest(target, 'GET', '/readyz')).status).toBe(503);
    expect(logs.filter((l) => JSON.parse(l).level >= 50)).toEqual([]);

    await redis.up();
    await eventually(async () => expect((await apiRequest(target, 'PUT', '/meshes/after', mesh('after'))).status).toBe(201), 15_000, 200);
    expect((await apiRequest(target, 'GET', '/meshes/before')).status).toBe(200);
    expect((await apiRequest(target, 'GET', '/meshes/during')).status).toBe(404);
  }, 60_000);
});
