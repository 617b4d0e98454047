// End to end: 6-second certificates rotate before they expire in both zones, and services calling
// each other across zones over mTLS the whole time never see a failed request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, fixture, serviceRoutes, startMeshEnv, startTraffic, watchRotations, type MeshEnv } from '../src/index.js';

let env: MeshEnv;

beforeAll(async () => {
  env = await startMeshEnv();
  const applied = await env.meshctlInput(fixture('mesh-builtin-6s.yaml'), 'apply', '-f', '-');
  expect(applied.code, applied.stderr).toBe(0);
}, 60_000);

afterAll(async () => {
  await env?.stop();
});

describe('rotation of short-lived certificates', () => {
  it('rotates at least twice in each zone before expiry, with no failed request across zones', async () => {
    // One dataplane with a zone-made key, one that sends CSRs (its key never leaves it).
    const [web, backend] = await Promise.all([
      env.startService('zone-1', { name: 'web-1', service: 'web' }),
      env.startService('zone-2', { name: 'backend-1', service: 'backend', csr: true }),
    ]);
    for (const svc of [web, backend]) {
      const id = svc.handle.current()!;
      const lifetime = id.notAfter.getTime() - id.notBefore.getTime();
      // 6 s, give or take the backdating of notBefore.
      expect(lifetime).toBeGreaterThanOrEqual(6_000);
      expect(lifetime).toBeLessThan(6_000 + 5 * 60_000);
    }
    const rotations = [watchRotations(web), watchRotations(backend)];
    const loop = startTraffic(serviceRoutes(web, backend), { pauseMs: 20 });
    try {
      await eventually(
        async () => {
          for (const r of rotations) expect(r.serials.length).toBeGreaterThanOrEqual(3);
          // Requests went out with each of the first three certificates of each side.
          for (const [svc, r] of [
            [web, rotations[0]!],
            [backend, rotations[1]!],
          ] as const) {
            for (const serial of r.serials.slice(0, 3))
              expect(loop.servedWith.get(svc.name)?.has(serial), `${svc.name} called with ${serial}`).toBe(true);
          }
        },
        25_000,
        200,
      );
    } finally {
      await loop.stop();
    }
    expect(loop.failures).toEqual([]);
    expect(loop.requests).toBeGreaterThan(20);
    for (const r of rotations) {
      expect(r.lateRotations).toEqual([]);
      expect(new Set(r.serials).size).toBe(r.serials.length);
    }
  }, 40_000);
});
