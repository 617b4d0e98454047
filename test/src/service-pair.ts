// A pair of mesh services across the two zones of a MeshEnv, and their calls to each other.
import { expect } from 'vitest';
import type { MeshEnv, MeshService } from './mesh-env.js';

/** `web-<suffix>` in zone-1 and `backend-<suffix>` in zone-2, both holding a certificate. */
export async function startPair(env: MeshEnv, suffix: string): Promise<[MeshService, MeshService]> {
  const web = await env.startService('zone-1', { name: `web-${suffix}`, service: 'web' });
  const backend = await env.startService('zone-2', { name: `backend-${suffix}`, service: 'backend' });
  await Promise.all([web.handle.ready(20_000), backend.handle.ready(20_000)]);
  return [web, backend];
}

export async function expectCrossZone(web: MeshService, backend: MeshService): Promise<void> {
  expect(await web.call(backend)).toBe('backend@zone-2');
  expect(await backend.call(web)).toBe('web@zone-1');
}
