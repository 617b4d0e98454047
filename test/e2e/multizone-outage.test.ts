// End to end, outages: global on Redis stopped and restarted, zones stopped and restarted, a
// version a zone refuses. Real processes, real redis-server, real TLS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '@meshca/store';
import { ApiCallError, createClient, type ApiClient } from '@meshca/ctl';
import {
  eventually,
  FAST_GLOBAL_ARGS,
  freePort,
  runBin,
  startGlobalProcess,
  startRedisServer,
  startZoneProcess,
  syncCaFileOf,
  syncUrlOf,
  writeTokenFile,
  type GlobalProcess,
  type RedisServer,
  type ZoneProcess,
} from '../src/index.js';

let redis: RedisServer;
let global: GlobalProcess;
let onGlobal: ApiClient;
let globalArgs: string[];
let syncUrl: string;
let caFile: string;
const zones: Record<string, { proc: ZoneProcess; api: ApiClient; tokenFile: string; store: string }> = {};

const status = (err: unknown) => (err instanceof ApiCallError ? err.status : err);
const gone = (p: Promise<unknown>) =>
  p.then(
    () => 200,
    (e: unknown) => status(e),
  );

async function startGlobal(): Promise<void> {
  global = await startGlobalProcess({
    ...(global === undefined ? {} : { dataDir: global.dataDir }),
    store: `${redis.url}?prefix=global:`,
    extraArgs: globalArgs,
  });
  onGlobal = await createClient({ name: 'g', address: global.apiUrl, tokenFile: global.tokenFile, caCertFile: global.caFile });
}

async function startZone(zone: string, opts: { tokenFile: string; store: string; dataDir?: string }): Promise<void> {
  const proc = await startZoneProcess({
    zone,
    global: syncUrl,
    globalCaFile: caFile,
    zoneTokenFile: opts.tokenFile,
    store: opts.store,
    ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
  });
  const api = await createClient({ name: zone, address: proc.apiUrl, tokenFile: proc.adminTokenFile, caCertFile: proc.caFile });
  zones[zone] = { proc, api, tokenFile: opts.tokenFile, store: opts.store };
}

async function restartZone(zone: string): Promise<void> {
  const z = zones[zone]!;
  expect(await z.proc.stop()).toBe(0);
  await startZone(zone, { tokenFile: z.tokenFile, store: z.store, dataDir: z.proc.dataDir });
}

const connected = async (zone: string) =>
  (await zones[zone]!.api.call<{ kds: { connected: boolean } }>('GET', '/status')).body.kds.connected;

async function meshOn(zone: string, name: string): Promise<Record<string, unknown>> {
  return (await zones[zone]!.api.call<Record<string, unknown>>('GET', `/meshes/${name}`)).body;
}

beforeAll(async () => {
  redis = await startRedisServer();
  globalArgs = [...FAST_GLOBAL_ARGS, '--sync-port', String(await freePort())];
  await startGlobal();
  syncUrl = syncUrlOf(global);
  caFile = syncCaFileOf(global);
  const token = async (zone: string) => writeTokenFile(await onGlobal.callText('POST', '/tokens/zone', { zone, validFor: '1h' }));
  await Promise.all([
    startZone('east', { tokenFile: await token('east'), store: `${redis.url}?prefix=east:` }),
    startZone('west', { tokenFile: await token('west'), store: 'memory' }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all(Object.values(zones).map((z) => z.proc.stop()));
  await global?.stop();
  await redis?.stop();
});

describe('outages', () => {
  it('zones keep serving while global is down; a zone on Redis restarted meanwhile still serves its last config', async () => {
    await onGlobal.call('PUT', '/meshes/m1', { type: 'Mesh', name: 'm1' });
    await onGlobal.call('PUT', '/meshes/m1/secrets/s1', { type: 'Secret', name: 's1', mesh: 'm1', data: 'czE=' });
    for (const zone of ['east', 'west'])
      await eventually(async () => expect((await zones[zone]!.api.call('GET', '/meshes/m1/secrets/s1')).status).toBe(200));

    expect(await global.stop()).toBe(0);
    for (const zone of ['east', 'west']) {
      await eventually(async () => expect(await connected(zone)).toBe(false));
      expect((await meshOn(zone, 'm1')).name).toBe('m1');
    }
    await restartZone('east');
    expect((await meshOn('east', 'm1')).name).toBe('m1');
    expect((await zones.east!.api.call('GET', '/meshes/m1/secrets/s1')).status).toBe(200);
    expect(await connected('east')).toBe(false);
    // west goes away for good: the restarted global must still list it, offline.
    expect(await zones.west!.proc.stop()).toBe(0);
  });

  it('a global restarted on Redis lists the zones it knew and resumes their streams', async () => {
    await startGlobal();
    await eventually(async () => expect(await connected('east')).toBe(true));
    const { body } = await onGlobal.call<{
      items: { name: string; status: { online: boolean; ackedRevision?: number; lastSeen?: string } }[];
    }>('GET', '/zones');
    const byName = Object.fromEntries(body.items.map((z) => [z.name, z.status]));
    expect(byName.east?.online).toBe(true);
    expect(byName.west?.online).toBe(false);
    expect(byName.west?.lastSeen).toBeDefined();
    expect(byName.west?.ackedRevision).toBeGreaterThan(0);
    // east resumed from the revision it had applied, not from nothing.
    const hello = await eventually(async () => {
      const line = global.logs.find((l) => l.msg === 'zone connected' && l.zone === 'east');
      expect(line).toBeDefined();
      return line;
    });
    expect(Number(hello?.lastRevision)).toBeGreaterThan(0);

    await onGlobal.call('PUT', '/meshes/m2', { type: 'Mesh', name: 'm2' });
    await eventually(async () => expect((await meshOn('east', 'm2')).name).toBe('m2'));
  });

  it('changes made on global while a zone is away, deletes included, reach it when it comes back', async () => {
    expect(await zones.east!.proc.stop()).toBe(0);
    await eventually(async () => {
      const { body } = await onGlobal.call<{ status: { online: boolean } }>('GET', '/zones/east');
      expect(body.status.online).toBe(false);
    });
    await onGlobal.call('PUT', '/meshes/m1', { type: 'Mesh', name: 'm1', labels: { team: 'payments' } });
    await onGlobal.call('DELETE', '/meshes/m2');
    await onGlobal.call('PUT', '/meshes/m3', { type: 'Mesh', name: 'm3' });
    const z = zones.east!;
    await startZone('east', { tokenFile: z.tokenFile, store: z.store, dataDir: z.proc.dataDir });
    await eventually(async () => expect((await meshOn('east', 'm3')).name).toBe('m3'));
    expect(((await meshOn('east', 'm1')).labels as Record<string, string>).team).toBe('payments');
    expect(await gone(meshOn('east', 'm2'))).toBe(404);
  });

  it('NACKs a version the zone refuses, applies none of it, shows it on global, and keeps syncing later versions', async () => {
    // A Mesh that bypassed global's validation (as a newer or broken global could send).
    const direct = await createRedisStore(redis.url, { prefix: 'global:' });
    await direct.create({ meta: { type: 'Mesh', name: 'broken' }, spec: { mtls: { enabledBackend: 'ca-9', backends: [] } } });
    await direct.close();
    await eventually(async () => {
      const { body } = await onGlobal.call<{ status: { nacks: { reason: string }[] } }>('GET', '/zones/east');
      expect(body.status.nacks.at(-1)?.reason).toContain('mtls.enabledBackend');
    });
    expect(await gone(meshOn('east', 'broken'))).toBe(404);
    const table = await runBin('meshctl', [
      '--address',
      global.apiUrl,
      '--token-file',
      global.tokenFile,
      '--ca-cert-file',
      global.caFile,
      'get',
      'zones',
    ]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/east\s+Online.*mtls\.enabledBackend/);
    expect(table.stdout).toMatch(/west\s+Offline/);

    await onGlobal.call('PUT', '/meshes/m4', { type: 'Mesh', name: 'm4' });
    await eventually(async () => expect((await meshOn('east', 'm4')).name).toBe('m4'));
    const s = await zones.east!.api.call<{ kds: { nacks: unknown[] } }>('GET', '/status');
    expect(s.body.kds.nacks.length).toBe(1);
  });
});
