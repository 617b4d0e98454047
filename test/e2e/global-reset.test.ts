// Global restarted on the memory store comes back empty. The zone keeps its Meshes and Secrets and
// keeps issuing, says so on both sides, and follows global again once the Meshes are re-applied;
// dataplane tokens made before the restart keep working, also in a zone that starts from nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@meshca/ctl';
import { eventually, fixture, startMeshEnv, type MeshEnv, type ZoneProcess } from '../src/index.js';

let env: MeshEnv;

beforeAll(async () => {
  env = await startMeshEnv({ zones: ['zone-1'] });
});

afterAll(async () => {
  await env?.stop();
});

const MESH = fixture('mesh-builtin.yaml');

interface ZoneStatus {
  kds: { connected: boolean; divergence?: { missing: string[] }; nacks: { reason: string }[] };
}

async function zoneStatus(zone: ZoneProcess): Promise<ZoneStatus> {
  const client = await createClient({ name: 'z', address: zone.apiUrl, caCertFile: zone.caFile });
  return (await client.call<ZoneStatus>('GET', '/status')).body;
}

describe('global restarted on an empty memory store', () => {
  it('the zone keeps serving what it holds, reports it, and follows global again once the Mesh is re-applied', async () => {
    expect((await env.meshctlInput(MESH, 'apply', '-f', '-')).code).toBe(0);
    const web = await env.startService('zone-1', { name: 'web-1', service: 'web' });
    const first = await web.handle.ready(15_000);
    // Made before the restart: signed by global's keyring, which lives in its data dir.
    const tokenBefore = await env.dataplaneToken({ mesh: 'default', name: 'api-1', tags: { 'kuma.io/service': 'api' } });
    const laterToken = await env.dataplaneToken({ mesh: 'default', name: 'late-1', tags: { 'kuma.io/service': 'late' } });

    await env.restartGlobal();
    const zone = env.zones['zone-1']!;
    const status = await eventually(async () => {
      const s = await zoneStatus(zone);
      expect(s.kds.divergence?.missing).toContain('Mesh "default"');
      return s;
    }, 20_000);
    expect(status.kds.nacks.at(-1)?.reason).toContain('--accept-global-reset');
    expect(env.global.logs.some((l) => String(l.msg).includes('another dataset of global'))).toBe(true);
    expect(zone.logs.some((l) => l.level === 50 && String(l.msg).includes('another dataset'))).toBe(true);

    // Still issuing from what it kept, to a dataplane that connects now.
    const api = await env.startService('zone-1', { name: 'api-1', service: 'api', token: tokenBefore });
    expect((await api.handle.ready(15_000)).backend).toBe('ca-1');
    expect(await api.call(web)).toBe('web@zone-1');

    // The operator re-applies the Mesh: a new builtin CA on global, which the zone now follows.
    expect((await env.meshctlInput(MESH, 'apply', '-f', '-')).code).toBe(0);
    await eventually(async () => expect((await zoneStatus(zone)).kds.divergence).toBeUndefined(), 20_000);
    await eventually(async () => expect(web.handle.current()?.serial).not.toBe(first.serial), 30_000);
    await eventually(async () => expect(await api.call(web)).toBe('web@zone-1'), 30_000);

    // A zone that starts from nothing (memory) gets global's published token keys: old tokens work.
    await zone.stop();
    await env.restartZone('zone-1');
    const late = await env.startService('zone-1', { name: 'late-1', service: 'late', token: laterToken });
    expect((await late.handle.ready(20_000)).backend).toBe('ca-1');
  }, 120_000);
});
