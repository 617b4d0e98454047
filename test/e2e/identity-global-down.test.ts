// End to end: with the global process stopped, zones keep issuing and rotating certificates for the
// dataplanes they have, and a dataplane that starts meanwhile gets its certificate (its token verifies
// from the signing keys synced earlier) and talks across zones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  fixture,
  serviceRoutes,
  startMeshEnv,
  startTraffic,
  watchRotations,
  type MeshEnv,
  type MeshService,
} from '../src/index.js';

let env: MeshEnv;
let web: MeshService;
let backend: MeshService;

beforeAll(async () => {
  env = await startMeshEnv();
  const applied = await env.meshctlInput(fixture('mesh-builtin-6s.yaml'), 'apply', '-f', '-');
  expect(applied.code, applied.stderr).toBe(0);
  [web, backend] = await Promise.all([
    env.startService('zone-1', { name: 'web-1', service: 'web' }),
    env.startService('zone-2', { name: 'backend-1', service: 'backend' }),
  ]);
}, 60_000);

afterAll(async () => {
  await env?.stop();
});

describe('global down', () => {
  it('zones keep rotating existing dataplanes and admit new ones, which talk across zones', async () => {
    // Made while global is up: the token a new dataplane will present later.
    const apiToken = await env.dataplaneToken({ mesh: 'default', name: 'api-1', tags: { 'kuma.io/service': 'api' } });
    expect(await env.global.stop()).toBe(0);
    const down = await env.meshctl('get', 'meshes');
    expect(down.code).toBe(1);

    const rotations = [watchRotations(web), watchRotations(backend)];
    const loop = startTraffic(serviceRoutes(web, backend), { pauseMs: 20 });
    let api: MeshService | undefined;
    try {
      await eventually(
        async () => {
          for (const r of rotations) expect(r.serials.length).toBeGreaterThanOrEqual(3);
        },
        25_000,
        200,
      );

      api = await env.startService('zone-2', { name: 'api-1', service: 'api', token: apiToken });
      expect(api.handle.current()?.backend).toBe('ca-1');
      expect(await web.call(api)).toBe('api@zone-2');
      expect(await api.call(web)).toBe('web@zone-1');
    } finally {
      await loop.stop();
    }
    expect(loop.failures).toEqual([]);
    expect(loop.requests).toBeGreaterThan(20);
    for (const r of rotations) expect(r.lateRotations).toEqual([]);
  }, 45_000);
});
