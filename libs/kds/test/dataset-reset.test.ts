// A global that comes back with another dataset (restarted on the memory store, its Redis flushed):
// the zone keeps what it holds and says so on both sides, follows again once global holds all of
// it, and takes global's state as it is only when told to.
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '@meshca/test/eventually';
import { APPLIED_EPOCH_LABEL } from '../src/index.js';
import { cleanup, createEnv, mesh, secret, startGlobal, startZone, type Env, type Global } from './fixture.js';

let env: Env;
afterEach(async () => {
  await cleanup(env);
});

/** Global A with two Meshes and a Secret, a zone synced from it; then A is gone and B (empty) takes its port. */
async function resetGlobal(zoneOpts: { acceptGlobalReset?: boolean } = {}) {
  env = await createEnv();
  const a = await startGlobal(env);
  await a.store.create(mesh('default'));
  await a.store.create(secret('default', 'token', 'hvs.a'));
  await a.store.create(mesh('other'));
  for (let i = 0; i < 5; i++) await a.store.create(mesh(`pad-${i}`)); // A's history is longer than B's will be
  const zone = await startZone(env, a, 'zone-1', zoneOpts);
  await eventually(async () => expect(zone.client.status().lastRevision).toBe(await a.store.revision()));
  const zoneRecord = await zone.store.get({ type: 'Zone', name: 'zone-1' });
  expect(zoneRecord?.meta.labels[APPLIED_EPOCH_LABEL]).toBe(await a.store.epoch());
  await a.stop();
  const b: Global = await startGlobal(env, { port: a.port });
  return { a, b, zone };
}

describe('global back with another dataset', () => {
  it('the zone keeps its Meshes and Secrets, reports the divergence on both sides, and follows again once global holds them', async () => {
    const { b, zone } = await resetGlobal();
    await b.store.create(mesh('other', { changedOnB: true }));
    await eventually(() =>
      expect(zone.client.status().divergence?.missing).toEqual(
        expect.arrayContaining(['Mesh "default"', 'Secret "token" in mesh "default"']),
      ),
    );
    expect(await zone.store.get({ type: 'Mesh', name: 'default' })).toBeDefined();
    expect(await zone.store.get({ type: 'Secret', mesh: 'default', name: 'token' })).toBeDefined();
    // Not even the parts global does hold are taken while it lacks others: no half-followed state.
    expect((await zone.store.get({ type: 'Mesh', name: 'other' }))?.spec).not.toHaveProperty('changedOnB');
    expect(zone.lines.some((l) => l.level === 50 && l.msg.includes('another dataset'))).toBe(true);
    await eventually(() => expect(b.kds.zone('zone-1')?.nacks.at(-1)?.reason).toContain('lacks'));
    expect(b.kds.zone('zone-1')?.nacks.at(-1)?.reason).toContain('--accept-global-reset');
    expect(b.lines.some((l) => String(l.msg).includes('another dataset of global'))).toBe(true);

    // The operator re-applies what global lost: the zone follows global again, whole.
    await b.store.create(mesh('default', { reapplied: true }));
    await b.store.create(secret('default', 'token', 'hvs.b'));
    for (let i = 0; i < 5; i++) await b.store.create(mesh(`pad-${i}`));
    await eventually(async () => {
      expect(zone.client.status().divergence).toBeUndefined();
      expect(zone.client.status().lastRevision).toBe(await b.store.revision());
    });
    expect((await zone.store.get({ type: 'Mesh', name: 'default' }))?.spec).toHaveProperty('reapplied', true);
    expect((await zone.store.get({ type: 'Mesh', name: 'other' }))?.spec).toHaveProperty('changedOnB', true);
    expect((await zone.store.get({ type: 'Zone', name: 'zone-1' }))?.meta.labels[APPLIED_EPOCH_LABEL]).toBe(await b.store.epoch());

    // From then on it is ordinary sync again: a delete on global is a delete in the zone.
    await b.store.delete({ type: 'Mesh', name: 'other' });
    await eventually(async () => expect(await zone.store.get({ type: 'Mesh', name: 'other' })).toBeUndefined());
  });

  it("with --accept-global-reset the zone takes global's state as it is", async () => {
    const { b, zone } = await resetGlobal({ acceptGlobalReset: true });
    await b.store.create(mesh('other'));
    await eventually(async () => expect(await zone.store.get({ type: 'Mesh', name: 'default' })).toBeUndefined());
    expect(await zone.store.list('Mesh')).toHaveLength(1);
    expect(zone.client.status().divergence).toBeUndefined();
    expect(zone.lines.some((l) => l.level === 40 && l.msg.includes('--accept-global-reset'))).toBe(true);
  });

  it("a global whose new history went past the zone's revision sends a snapshot, not deltas from another history", async () => {
    const { b, zone } = await resetGlobal({ acceptGlobalReset: true });
    // B's revisions pass A's: resuming from the zone's revision would replay B's unrelated changes.
    for (let i = 0; i < 12; i++) await b.store.create(mesh(`b-${i}`));
    await eventually(async () => expect(zone.client.status().lastRevision).toBe(await b.store.revision()));
    expect((await zone.store.list('Mesh')).map((m) => m.meta.name).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `b-${i}`).sort());
  });
});
