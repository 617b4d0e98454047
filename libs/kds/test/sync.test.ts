import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStore } from '@meshca/store';
import { eventually } from '@meshca/test/eventually';
import { APPLIED_REVISION_LABEL, readAppliedRevision } from '../src/index.js';
import { cleanup, createEnv, mesh, secret, startGlobal, startZone, type Env } from './fixture.js';

let env: Env;
beforeAll(async () => {
  env = await createEnv();
});
afterEach(async () => {
  await cleanup(env);
});

const names = async (store: { list(t: 'Mesh'): Promise<{ meta: { name: string } }[]> }) =>
  (await store.list('Mesh')).map((m) => m.meta.name);

describe('global to zone', () => {
  it('brings a snapshot and then deltas to two zones; updates, deletes and secrets follow', async () => {
    const global = await startGlobal(env);
    await global.store.create(mesh('default'));
    await global.store.create(secret('default', 'vault-token', 's3cr3t'));
    const east = await startZone(env, global, 'east');
    const west = await startZone(env, global, 'west');

    for (const z of [east, west]) {
      await eventually(async () => expect(await names(z.store)).toEqual(['default']));
      await eventually(async () =>
        expect((await z.store.get({ type: 'Secret', mesh: 'default', name: 'vault-token' }))?.spec).toEqual({
          data: Buffer.from('s3cr3t').toString('base64'),
        }),
      );
    }

    await global.store.create(mesh('payments'));
    const def = await global.store.get({ type: 'Mesh', name: 'default' });
    await global.store.update(
      { meta: { type: 'Mesh', name: 'default', labels: { team: 'core' } }, spec: { ...def?.spec, metrics: { enabledBackend: 'prom' } } },
      def?.meta.version ?? 0,
    );
    await global.store.delete({ type: 'Secret', mesh: 'default', name: 'vault-token' });
    await global.store.create({ meta: { type: 'GlobalSecret', name: 'admin' }, spec: { data: 'YQ==' } });

    for (const z of [east, west]) {
      await eventually(async () => {
        expect(await names(z.store)).toEqual(['default', 'payments']);
        const d = await z.store.get({ type: 'Mesh', name: 'default' });
        expect((d?.spec as Record<string, unknown> | undefined)?.metrics).toEqual({ enabledBackend: 'prom' });
        expect(d?.meta.labels.team).toBe('core');
        expect(await z.store.get({ type: 'Secret', mesh: 'default', name: 'vault-token' })).toBeUndefined();
        expect((await z.store.get({ type: 'GlobalSecret', name: 'admin' }))?.spec).toEqual({ data: 'YQ==' });
      });
    }
    await global.store.delete({ type: 'Mesh', name: 'payments' });
    const head = await global.store.revision();
    for (const z of [east, west]) {
      await eventually(async () => {
        expect(await names(z.store)).toEqual(['default']);
        expect(z.client.status()).toMatchObject({ connected: true, lastRevision: head });
      });
    }
    await eventually(() =>
      expect(global.kds.zones().map((z) => [z.zone, z.online, z.ackedRevision])).toEqual([
        ['east', true, head],
        ['west', true, head],
      ]),
    );
    // No snapshot after the first: every later version went as a delta.
    expect(global.kds.zone('east')).toMatchObject({ snapshotsSent: 1 });
    expect(global.kds.zone('east')?.deltasSent).toBeGreaterThan(0);
  });

  it('resumes after a disconnect with only the delta, from the revision persisted in the zone store', async () => {
    const global = await startGlobal(env);
    await global.store.create(mesh('a'));
    await global.store.create(mesh('b'));
    const store = createMemoryStore();
    const first = await startZone(env, global, 'east', { store });
    await eventually(async () => expect(await names(store)).toEqual(['a', 'b']));
    await first.client.stop();
    await eventually(() => expect(global.kds.zone('east')?.online).toBe(false));
    const persisted = await readAppliedRevision(store, 'east');
    expect(persisted).toBe(await global.store.revision());
    expect((await store.get({ type: 'Zone', name: 'east' }))?.meta.labels[APPLIED_REVISION_LABEL]).toBe(String(persisted));

    await global.store.delete({ type: 'Mesh', name: 'a' });
    await global.store.create(mesh('c'));

    // A new client on the same store (as after a restart on Redis) resumes from the persisted revision.
    await startZone(env, global, 'east', { store });
    await eventually(async () => expect(await names(store)).toEqual(['b', 'c']));
    const state = global.kds.zone('east');
    expect(state).toMatchObject({ online: true, snapshotsSent: 0 });
    expect(state?.deltasSent).toBeGreaterThan(0);
  });

  it('a revision the zone is not sent (another type) leaves no lag: sent is what was sent, and it is ACKed', async () => {
    const global = await startGlobal(env);
    await global.store.create(mesh('a'));
    await startZone(env, global, 'east', {});
    await eventually(() => expect(global.kds.zone('east')?.ackedRevision).toBe(1));
    // Resources that go from zones to global only: global's revision moves, nothing is sent to east.
    await global.store.create({ meta: { type: 'ZoneInsight', name: 'west' }, spec: {} });
    await global.store.create({ meta: { type: 'ZoneInsight', name: 'north' }, spec: {} });
    await eventually(() => expect(global.kds.zone('east')?.deltasSent).toBe(0));
    await new Promise((r) => setTimeout(r, 200)); // the sender has seen both changes
    expect(global.kds.zone('east')).toMatchObject({ sentRevision: 1, ackedRevision: 1, inFlight: 0 });
    await global.store.create(mesh('b'));
    await eventually(() => expect(global.kds.zone('east')).toMatchObject({ sentRevision: 4, ackedRevision: 4, inFlight: 0 }));
  });

  it('counts streams and message bytes on both ends, and the two ends agree', async () => {
    const global = await startGlobal(env);
    await global.store.create(mesh('a'));
    const zone = await startZone(env, global, 'east', {});
    await eventually(() => expect(global.kds.zone('east')?.ackedRevision).toBe(1));
    const agree = () => {
      const z = zone.client.status();
      const g = global.kds.zone('east');
      expect(z.bytesReceived).toBeGreaterThan(0);
      expect(z.bytesSent).toBeGreaterThan(0);
      expect(g?.bytesSent).toBe(z.bytesReceived);
      expect(g?.bytesReceived).toBe(z.bytesSent);
      return z;
    };
    const before = await eventually(agree);
    expect(before.connects).toBe(1);
    expect(global.kds.zone('east')?.connects).toBe(1);

    // Global ends the stream; the zone comes back: a second stream on both ends, and more bytes.
    expect(global.kds.revalidate(() => 'test: ending the stream')).toEqual(['east']);
    await global.store.create(mesh('b'));
    await eventually(() => expect(global.kds.zone('east')).toMatchObject({ online: true, connects: 2, ackedRevision: 2 }), 10_000);
    const after = await eventually(agree);
    expect(after.connects).toBe(2);
    expect(after.bytesReceived).toBeGreaterThan(before.bytesReceived);
  });

  it('resumes past compaction with a snapshot that removes what was deleted meanwhile', async () => {
    const global = await startGlobal(env, { feedRetention: 3 });
    await global.store.create(mesh('gone'));
    await global.store.create(mesh('kept'));
    const store = createMemoryStore();
    const first = await startZone(env, global, 'east', { store });
    await eventually(async () => expect(await names(store)).toEqual(['gone', 'kept']));
    await first.client.stop();

    await global.store.delete({ type: 'Mesh', name: 'gone' });
    for (const n of ['n1', 'n2', 'n3', 'n4']) await global.store.create(mesh(n));
    expect(await global.store.changesSince(await readAppliedRevision(store, 'east'))).toBe('compacted');

    await startZone(env, global, 'east', { store });
    await eventually(async () => expect(await names(store)).toEqual(['kept', 'n1', 'n2', 'n3', 'n4']));
    expect(global.kds.zone('east')?.snapshotsSent).toBe(1);
  });

  it('records a NACK on global and applies nothing of the refused version', async () => {
    const global = await startGlobal(env);
    await global.store.create(mesh('fine'));
    await global.store.create(mesh('refused'));
    const zone = await startZone(env, global, 'east', {
      validate: (r) => (r.meta.name === 'refused' ? 'mesh "refused" fails zone validation' : undefined),
    });
    const nack = await eventually(() => {
      const n = global.kds.zone('east')?.nacks[0];
      if (n === undefined) throw new Error('no NACK yet');
      return n;
    });
    expect(nack.reason).toContain('mesh "refused" fails zone validation');
    expect(nack.revision).toBe(2);
    // The snapshot held both meshes: neither was applied.
    expect(await names(zone.store)).toEqual([]);
    expect(zone.client.status().nacks[0]?.revision).toBe(2);
    expect(global.lines.some((l) => l.msg.includes('NACK') && l.reason === nack.reason)).toBe(true);

    // A later version that validates is applied.
    await global.store.create(mesh('later'));
    await eventually(async () => expect(await names(zone.store)).toEqual(['later']));
  });
});

describe('zone to global', () => {
  it('stores Dataplanes and the ZoneInsight under the zone name with the zone label, and prunes on reconnect', async () => {
    const global = await startGlobal(env);
    const local = createMemoryStore();
    await local.create({
      meta: { type: 'Dataplane', mesh: 'default', name: 'web-1' },
      spec: { networking: { address: '10.0.0.1', inbound: [{ port: 8080, tags: { 'kuma.io/service': 'web' } }] } },
    });
    await local.create({ meta: { type: 'ZoneInsight', name: 'east' }, spec: { health: 'ok' } });
    const east = await startZone(env, global, 'east', { store: local });
    const westLocal = createMemoryStore();
    await westLocal.create({
      meta: { type: 'Dataplane', mesh: 'default', name: 'web-1' },
      spec: { networking: { address: '10.1.0.1', inbound: [] } },
    });
    await startZone(env, global, 'west', { store: westLocal });

    await eventually(async () => {
      const dps = await global.store.list('Dataplane');
      expect(dps.map((d) => [d.meta.name, d.meta.labels['kuma.io/zone']])).toEqual([
        ['east.web-1', 'east'],
        ['west.web-1', 'west'],
      ]);
      expect((await global.store.get({ type: 'ZoneInsight', name: 'east' }))?.spec).toEqual({ health: 'ok' });
    });

    await local.create({
      meta: { type: 'Dataplane', mesh: 'default', name: 'web-2' },
      spec: { networking: { address: '10.0.0.2', inbound: [] } },
    });
    await local.delete({ type: 'Dataplane', mesh: 'default', name: 'web-1' });
    await eventually(async () =>
      expect((await global.store.list('Dataplane')).map((d) => d.meta.name)).toEqual(['east.web-2', 'west.web-1']),
    );

    // Deleted while disconnected: the zone's snapshot on reconnect removes it on global.
    await east.client.stop();
    await local.delete({ type: 'Dataplane', mesh: 'default', name: 'web-2' });
    await startZone(env, global, 'east', { store: local });
    await eventually(async () => expect((await global.store.list('Dataplane')).map((d) => d.meta.name)).toEqual(['west.web-1']));
    // Synced global types never flow back up.
    expect(await global.store.list('Zone')).toEqual([]);
  });
});
