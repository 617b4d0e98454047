// Two meshca-global replicas on one Redis, with a shared data dir (admin token, signing keys, TLS
// material), behind HAProxy as a plain TCP load balancer for the API and the sync port; two zones
// dial the balanced sync port. Writes through either replica reach every zone; kill -9 of one
// replica during a burst of applies loses no acknowledged apply and leaves none half-written,
// and the zones keep streaming through the other.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type ApiClient } from '@meshca/ctl';
import { createRedisStore } from '@meshca/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  startGlobalProcess,
  startLoadBalancer,
  startRedisServer,
  startZoneProcess,
  syncUrlOf,
  writeTokenFile,
  type GlobalProcess,
  type LoadBalancer,
  type RedisServer,
  type ZoneProcess,
} from '../src/index.js';
import { audit, startWriters } from '../src/faults.js';

let redis: RedisServer;
let dataDir: string;
const globals: GlobalProcess[] = [];
let lb: LoadBalancer;
let admin: ApiClient;
const zones: Record<string, { proc: ZoneProcess; api: ApiClient }> = {};

const client = (address: string) =>
  createClient({ name: 'g', address, tokenFile: join(dataDir, 'admin-token'), caCertFile: join(dataDir, 'api-ca.pem') });

async function zoneHas(zone: string, mesh: string): Promise<boolean> {
  try {
    await zones[zone]!.api.call('GET', `/meshes/${mesh}`);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  redis = await startRedisServer();
  dataDir = await mkdtemp(join(tmpdir(), 'meshca-global-ha-'));
  // The first replica makes the shared material; the second reads it.
  for (let i = 0; i < 2; i++) globals.push(await startGlobalProcess({ dataDir, store: redis.url, extraArgs: ['--leader-lease', '2s'] }));
  lb = await startLoadBalancer({
    api: globals.map((g) => Number(new URL(g.apiUrl).port)),
    sync: globals.map((g) => Number(new URL(syncUrlOf(g)).port)),
  });
  admin = await client(`https://127.0.0.1:${lb.ports.api}`);
  for (const zone of ['east', 'west']) {
    const token = await admin.callText('POST', '/tokens/zone', { zone, validFor: '1h' });
    const proc = await startZoneProcess({
      zone,
      global: `wss://127.0.0.1:${lb.ports.sync}`,
      globalCaFile: join(dataDir, 'sync-ca.pem'),
      zoneTokenFile: await writeTokenFile(token),
      extraArgs: ['--kds-backoff-max', '1s'],
    });
    zones[zone] = {
      proc,
      api: await createClient({ name: zone, address: proc.apiUrl, tokenFile: proc.adminTokenFile, caCertFile: proc.caFile }),
    };
  }
}, 120_000);

afterAll(async () => {
  for (const z of Object.values(zones)) await z.proc.stop();
  await lb?.stop();
  for (const g of globals) await g.stop('SIGKILL');
  await redis?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('global replicas behind a TCP load balancer', () => {
  it('every replica lists both zones Online, and writes through either reach both zones', async () => {
    for (const g of globals) {
      const api = await client(g.apiUrl);
      await eventually(async () => {
        const { body } = await api.call<{ items: { name: string; status: { online: boolean } }[] }>('GET', '/zones');
        expect(body.items.map((z) => [z.name, z.status.online])).toEqual([
          ['east', true],
          ['west', true],
        ]);
      }, 20_000);
    }
    // Round robin: consecutive applies land on both replicas.
    for (let i = 0; i < 6; i++) await admin.call('PUT', `/meshes/m-${i}`, { type: 'Mesh', name: `m-${i}` });
    await eventually(async () => {
      for (const zone of ['east', 'west']) for (let i = 0; i < 6; i++) expect(await zoneHas(zone, `m-${i}`), `${zone}: m-${i}`).toBe(true);
    }, 20_000);
  });

  it('kill -9 of one replica during applies: every acknowledged apply is stored whole, and the zones keep streaming', async () => {
    const target = {
      apiUrl: `https://127.0.0.1:${lb.ports.api}`,
      caFile: join(dataDir, 'api-ca.pem'),
      tokenFile: join(dataDir, 'admin-token'),
    };
    const writers = startWriters(() => target, { writers: 4, prefix: 'ha' });
    await new Promise((r) => setTimeout(r, 800));
    const ackedBeforeKill = writers.acked.length;
    await globals[0]!.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 2000));
    await writers.stop();
    expect(ackedBeforeKill).toBeGreaterThan(0);
    expect(writers.acked.length).toBeGreaterThan(ackedBeforeKill);
    const store = await createRedisStore(redis.url);
    try {
      expect(await audit(store, writers.acked)).toEqual({ lost: [], halfWritten: [] });
    } finally {
      await store.close();
    }
    await admin.call('PUT', '/meshes/after-kill', { type: 'Mesh', name: 'after-kill' });
    await eventually(async () => {
      expect(await zoneHas('east', 'after-kill')).toBe(true);
      expect(await zoneHas('west', 'after-kill')).toBe(true);
    }, 20_000);
    await eventually(async () => {
      const { body } = await admin.call<{ items: { name: string; status: { online: boolean } }[] }>('GET', '/zones');
      expect(body.items.every((z) => z.status.online)).toBe(true);
    }, 20_000);
  }, 60_000);
});
