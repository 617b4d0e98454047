// The dataplane index follows the store's change feed: after the first listing, a change costs the
// changed dataplanes only, and a feed that no longer reaches back makes it list again.
import { describe, expect, it } from 'vitest';
import type { ResourceInput } from '@meshca/api';
import { createMemoryStore, type ResourceStore } from '@meshca/store';
import { createDataplaneIndex } from '../src/dataplane-index.js';

const insight = (name: string, hoursLeft: number, zone = 'east'): ResourceInput => ({
  meta: { type: 'DataplaneInsight', mesh: 'default', name, labels: {} },
  spec: {
    zone,
    connected: true,
    mTLS: { issuedBackend: 'ca-1', certificateExpirationTime: new Date(Date.now() + hoursLeft * 3600_000).toISOString() },
  },
});
const dataplane = (name: string, service: string): ResourceInput => ({
  meta: { type: 'Dataplane', mesh: 'default', name, labels: {} },
  spec: { networking: { address: '10.0.0.1', inbound: [{ port: 80, tags: { 'kuma.io/service': service } }] } },
});

/** The store, counting listings. */
function counting(store: ResourceStore): { store: ResourceStore; lists: () => number } {
  let lists = 0;
  return {
    store: new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'list') return (...args: Parameters<ResourceStore['list']>) => (lists++, target.list(...args));
        return Reflect.get(target, prop, receiver) as unknown;
      },
    }),
    lists: () => lists,
  };
}

const names = async (index: ReturnType<typeof createDataplaneIndex>) =>
  (await index.page({ sort: 'expiry', offset: 0, size: 50 })).items.map((r) => `${r.name}:${r.service}`);

describe('dataplane index', () => {
  it('applies upserts and deletes from the change feed without listing the store again', async () => {
    const { store, lists } = counting(createMemoryStore());
    for (const [n, h] of [
      ['a', 5],
      ['b', 10],
      ['c', 15],
    ] as const) {
      await store.create(dataplane(n, `svc-${n}`));
      await store.create(insight(n, h));
    }
    const index = createDataplaneIndex(store);
    expect(await names(index)).toEqual(['a:svc-a', 'b:svc-b', 'c:svc-c']);
    const listed = lists();
    // c renewed to expire first, b's insight and Dataplane removed, d arrives (Dataplane first).
    const c = await store.get({ type: 'DataplaneInsight', mesh: 'default', name: 'c' });
    await store.update(insight('c', 1), c!.meta.version);
    await store.delete({ type: 'DataplaneInsight', mesh: 'default', name: 'b' });
    await store.delete({ type: 'Dataplane', mesh: 'default', name: 'b' });
    await store.create(dataplane('d', 'svc-d'));
    await store.create({ meta: { type: 'Mesh', name: 'other' }, spec: {} }); // not a dataplane: ignored
    expect(await names(index)).toEqual(['c:svc-c', 'a:svc-a', 'd:svc-d']);
    await store.create(insight('d', 2, 'west'));
    const page = await index.page({ sort: 'expiry', offset: 0, size: 50 });
    expect(page.items.map((r) => `${r.name}@${r.zone}`)).toEqual(['c@east', 'd@west', 'a@east']);
    expect(page.facets.zones).toEqual(['east', 'west']);
    expect(lists()).toBe(listed);
  });

  it('lists again when the feed no longer holds the changes it missed', async () => {
    const { store, lists } = counting(createMemoryStore({ feedRetention: 3 }));
    await store.create(dataplane('a', 'svc-a'));
    await store.create(insight('a', 5));
    const index = createDataplaneIndex(store);
    expect(await names(index)).toEqual(['a:svc-a']);
    const listed = lists();
    for (const n of ['b', 'c', 'd']) {
      await store.create(dataplane(n, `svc-${n}`));
      await store.create(insight(n, 1));
    }
    expect(await names(index)).toEqual(['b:svc-b', 'c:svc-c', 'd:svc-d', 'a:svc-a']);
    expect(lists()).toBeGreaterThan(listed);
  });

  it('starts over when the store is another dataset (a Redis that lost its data): its revisions mean nothing here', async () => {
    const before = createMemoryStore();
    for (const n of ['a', 'b', 'c']) {
      await before.create(dataplane(n, `svc-${n}`));
      await before.create(insight(n, 5));
    }
    const after = createMemoryStore(); // a new epoch, and revisions from 0 again
    await after.create(dataplane('z', 'svc-z'));
    let current = before;
    const store = new Proxy(before, { get: (_t, prop) => Reflect.get(current, prop, current) as unknown });
    const index = createDataplaneIndex(store);
    expect(await names(index)).toEqual(['a:svc-a', 'b:svc-b', 'c:svc-c']);
    current = after;
    expect(await names(index)).toEqual(['z:svc-z']);
  });
});
