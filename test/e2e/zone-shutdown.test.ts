// A zone with dataplanes connected stops promptly on SIGTERM: the dataplane streams are closed
// before the HTTPS server waits for its connections.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fixture, startMeshEnv, type MeshEnv } from '../src/index.js';

let env: MeshEnv;

beforeAll(async () => {
  env = await startMeshEnv({ zones: ['zone-1'] });
  const applied = await env.meshctlInput(fixture('mesh-builtin.yaml'), 'apply', '-f', '-');
  expect(applied.code, applied.stderr).toBe(0);
}, 60_000);

afterAll(async () => {
  await env.stop();
});

it('stops within seconds with dataplanes connected, exiting 0', async () => {
  const svc = await env.startService('zone-1', { name: 'web-1', service: 'web' });
  await svc.handle.ready();
  const started = Date.now();
  expect(await env.zones['zone-1']!.stop('SIGTERM')).toBe(0);
  // Bounded, not timed: a hung close would sit at the stream heartbeat limits (tens of seconds).
  expect(Date.now() - started).toBeLessThan(10_000);
});
