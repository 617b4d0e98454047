// End to end: dataplanes in two zones get their identity from their own zone and talk mTLS across zones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, startMeshEnv, type MeshEnv } from '../src/index.js';

let env: MeshEnv;

beforeAll(async () => {
  env = await startMeshEnv();
  const applied = await env.meshctlInput(fixture('mesh-builtin.yaml'), 'apply', '-f', '-');
  expect(applied.code, applied.stderr).toBe(0);
}, 60_000);

afterAll(async () => {
  await env.stop();
});

describe('builtin CA across two zones', () => {
  it('issues each dataplane its SPIFFE identity in its own zone, and cross-zone mTLS verifies', async () => {
    const web = await env.startService('zone-1', { name: 'web-1', service: 'web' });
    const backend = await env.startService('zone-2', { name: 'backend-1', service: 'backend' });
    expect(await web.call(backend)).toBe('backend@zone-2');
    expect(await backend.call(web)).toBe('web@zone-1');
    const id = web.handle.current();
    expect(id?.backend).toBe('ca-1');
  });
});
