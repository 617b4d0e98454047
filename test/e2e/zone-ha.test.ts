// Two replicas of zone "east" on one Redis, a single "west", and calls across them the whole time.
// kill -9 of the leading replica: the other takes the lease and the KDS stream, the dataplane on
// the dead one moves to it and is issued again, and no call fails. A leader paused past its lease
// (SIGSTOP) and resumed writes nothing once another replica leads (its writes are fenced).
import { createClient } from '@meshca/ctl';
import { createRedisStore, type ResourceStore } from '@meshca/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  serviceRoutes,
  startMeshEnv,
  startRedisServer,
  startTraffic,
  type MeshEnv,
  type MeshService,
  type RedisServer,
  type Traffic,
} from '../src/index.js';
import type { ZoneProcess } from '../src/zone-process.js';

const LEASE_MS = 2000;
let redis: RedisServer;
let env: MeshEnv;
let eastStore: ResourceStore;
let services: MeshService[];
let traffic: Traffic;

interface ZoneStatus {
  replica: string;
  leader?: { replica: string; me: boolean };
  kds: { connected: boolean };
}

async function statusOf(z: ZoneProcess): Promise<ZoneStatus> {
  const api = await createClient({
    name: 'z',
    address: z.apiUrl,
    tokenFile: `${z.dataDir}/admin-token`,
    caCertFile: `${z.dataDir}/api-ca.pem`,
  });
  return (await api.call<ZoneStatus>('GET', '/status')).body;
}

async function zoneInsightLeader(): Promise<unknown> {
  return ((await eastStore.get({ type: 'ZoneInsight', name: 'east' }))?.spec as { leader?: string } | undefined)?.leader;
}

beforeAll(async () => {
  redis = await startRedisServer();
  env = await startMeshEnv({
    zones: ['east', 'west'],
    zoneStores: { east: `${redis.url}?prefix=east:` },
    zoneReplicas: { east: 2 },
    zoneArgs: ['--leader-lease', `${LEASE_MS}ms`],
  });
  eastStore = await createRedisStore(redis.url, { prefix: 'east:' });
  await env.admin.call('PUT', '/meshes/default', {
    type: 'Mesh',
    name: 'default',
    mtls: { enabledBackend: 'ca-1', backends: [{ name: 'ca-1', type: 'builtin' }] },
  });
  services = [
    await env.startService('east', { name: 'web-east', service: 'web' }),
    await env.startService('west', { name: 'api-west', service: 'api' }),
  ];
  await Promise.all(services.map((s) => s.handle.ready(20_000)));
  traffic = startTraffic(serviceRoutes(...services), { pauseMs: 20 });
  await traffic.more(3);
}, 120_000);

afterAll(async () => {
  await traffic?.stop();
  await eastStore?.close();
  await env?.stop();
  await redis?.stop();
});

describe('replicas of a zone on one Redis', () => {
  it('one replica leads and holds the stream; every replica serves dataplanes; global shows the leader', async () => {
    const [first, second] = env.replicas.east!;
    await eventually(async () => {
      const [a, b] = await Promise.all([statusOf(first!), statusOf(second!)]);
      // The first replica started first, so it took the lease.
      expect(a.leader).toEqual({ replica: a.replica, me: true });
      expect(a.kds.connected).toBe(true);
      expect(b.leader).toEqual({ replica: a.replica, me: false });
      expect(b.kds.connected).toBe(false);
      expect(await zoneInsightLeader()).toBe(a.replica);
    });
    const leaderId = (await statusOf(first!)).replica;
    await eventually(async () => {
      const zones = await env.meshctl('get', 'zones');
      expect(zones.stdout).toMatch(new RegExp(`east\\s+Online\\s+\\S+\\s+\\d+\\s+${leaderId}`));
    });
  });

  it('kill -9 of the leader: the other replica leads within the lease, the dataplane moves, no call fails', async () => {
    const [leader, other] = env.replicas.east!;
    const web = services[0]!;
    const serialBefore = web.handle.current()?.serial;
    const before = (await statusOf(other!)).replica;
    const killedAt = Date.now();
    leader!.child.kill('SIGKILL');
    let tookOverMs = 0;
    await eventually(async () => {
      const s = await statusOf(other!);
      expect(s.leader).toEqual({ replica: before, me: true });
      expect(s.kds.connected).toBe(true);
      tookOverMs = Date.now() - killedAt;
    }, 20_000);
    console.log(`zone-ha: kill -9 to the new leader streaming: ${tookOverMs} ms (lease ${LEASE_MS} ms)`);
    // The dataplane was on the dead replica: it reconnects to the other and is issued there.
    await eventually(() => expect(web.handle.current()?.serial).not.toBe(serialBefore), 20_000);
    await eventually(async () => expect(await zoneInsightLeader()).toBe(before));
    await traffic.more(5);
    expect(traffic.failures).toEqual([]);
    // Global hears from the new leader: a Mesh change reaches the zone's store through it.
    await env.admin.call('PUT', '/meshes/after-failover', { type: 'Mesh', name: 'after-failover' });
    await eventually(async () => expect(await eastStore.get({ type: 'Mesh', name: 'after-failover' })).toBeDefined());
  }, 60_000);

  it('a leader paused past its lease writes nothing once resumed: another replica leads and its writes stand', async () => {
    const leader = env.replicas.east![1]!;
    const leaderId = (await statusOf(leader)).replica;
    // A third replica to take over (the first was killed).
    const third = await env.addZoneReplica('east');
    leader.child.kill('SIGSTOP');
    try {
      await eventually(async () => expect((await statusOf(third)).leader?.me).toBe(true), 20_000);
      const thirdId = (await statusOf(third)).replica;
      await eventually(async () => expect(await zoneInsightLeader()).toBe(thirdId));
      await env.admin.call('PUT', '/meshes/while-paused', { type: 'Mesh', name: 'while-paused' });
      await eventually(async () => expect(await eastStore.get({ type: 'Mesh', name: 'while-paused' })).toBeDefined());
    } finally {
      leader.child.kill('SIGCONT');
    }
    // Resumed: its timers fire late, its queued writes reach Redis, and the fence refuses them.
    await eventually(() => expect(leader.logs.some((l) => l.msg === 'stopped leading')).toBe(true), 10_000);
    const thirdId = (await statusOf(third)).replica;
    for (let i = 0; i < 10; i++) {
      expect(await zoneInsightLeader()).toBe(thirdId);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect((await statusOf(leader)).leader).toEqual({ replica: thirdId, me: false });
    expect(leaderId).not.toBe(thirdId);
    await traffic.more(5);
    expect(traffic.failures).toEqual([]);
  }, 60_000);

  it('Redis restarted under them: the replicas reconnect by themselves, one leads again, and no call fails', async () => {
    await redis.down();
    await new Promise((r) => setTimeout(r, 3000));
    await redis.up();
    const live = env.replicas.east!.filter((z) => z.child.exitCode === null && z.child.signalCode === null);
    await eventually(async () => {
      const statuses = await Promise.all(live.map(statusOf));
      const leaders = statuses.filter((s) => s.leader?.me === true);
      expect(leaders).toHaveLength(1);
      expect(leaders[0]!.kds.connected).toBe(true);
    }, 30_000);
    await env.admin.call('PUT', '/meshes/after-redis', { type: 'Mesh', name: 'after-redis' });
    await eventually(async () => expect(await eastStore.get({ type: 'Mesh', name: 'after-redis' })).toBeDefined(), 20_000);
    // The dataplane can still be issued a certificate by the replica it is on.
    await traffic.more(5);
    expect(traffic.failures).toEqual([]);
  }, 60_000);
});
