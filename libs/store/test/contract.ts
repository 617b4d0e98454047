// The ResourceStore contract, written once and run against every implementation.
import type { ResourceInput } from '@meshca/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { eventually } from '@meshca/test/eventually';
import { ConflictError, NotFoundError, type ChangeEvent, type ResourceStore } from '../src/index.js';

export type MakeStore = (opts?: { feedRetention?: number }) => Promise<ResourceStore>;

export function secret(name: string, mesh: string, data = 'c2VjcmV0'): ResourceInput {
  return { meta: { type: 'Secret', name, mesh }, spec: { data } };
}

export function mesh(name: string, spec: Record<string, unknown> = {}): ResourceInput {
  return { meta: { type: 'Mesh', name }, spec };
}

/** Starts a watch that records what it receives. */
export function record(store: ResourceStore, after: number, onCompacted?: () => void) {
  const events: ChangeEvent[] = [];
  const stop = store.watch(after, (e) => events.push(e), onCompacted);
  return { events, stop };
}

const revisions = (events: ChangeEvent[] | 'compacted') => (events === 'compacted' ? events : events.map((e) => e.revision));

export function runStoreContract(name: string, makeStore: MakeStore): void {
  describe(`ResourceStore contract: ${name}`, () => {
    const opened: ResourceStore[] = [];
    const open = async (opts?: { feedRetention?: number }) => {
      const store = await makeStore(opts);
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    it('creates and gets a resource with times, labels and a version equal to the revision', async () => {
      const store = await open();
      expect(await store.revision()).toBe(0);
      const created = await store.create({
        meta: { type: 'Mesh', name: 'default', labels: { team: 'a' } },
        spec: { mtls: { backends: [] } },
      });
      expect(created.meta).toMatchObject({ type: 'Mesh', name: 'default', labels: { team: 'a' }, version: 1 });
      expect(created.meta.mesh).toBeUndefined();
      expect(Date.parse(created.meta.creationTime)).not.toBeNaN();
      expect(created.meta.modificationTime).toBe(created.meta.creationTime);
      expect(await store.revision()).toBe(1);
      expect(await store.get({ type: 'Mesh', name: 'default' })).toEqual(created);
      expect(await store.get({ type: 'Mesh', name: 'other' })).toBeUndefined();
      expect(await store.get({ type: 'Zone', name: 'default' })).toBeUndefined();
    });

    it('keeps specs exactly: empty arrays, nested data, large numbers, quotes and unicode', async () => {
      const store = await open();
      const spec = { a: [], b: [[1, 2], { c: [] }], d: {}, n: 9007199254740991, f: 0.1, s: 'quote " slash / \\ 🔐 é', t: true, z: null };
      await store.create(mesh('m', spec));
      expect((await store.get({ type: 'Mesh', name: 'm' }))?.spec).toEqual(spec);
      expect((await store.list('Mesh'))[0]?.spec).toEqual(spec);
    });

    it('hands out copies: mutating a returned resource does not change the store', async () => {
      const store = await open();
      const created = await store.create(mesh('m', { x: 1 }));
      (created.spec as Record<string, unknown>).x = 2;
      const got = await store.get({ type: 'Mesh', name: 'm' });
      (got!.spec as Record<string, unknown>).x = 3;
      expect((await store.get({ type: 'Mesh', name: 'm' }))?.spec).toEqual({ x: 1 });
    });

    it("hands out copies from the change feed too, and keeps none of the caller's input", async () => {
      const store = await open();
      const from = await store.revision();
      const input = mesh('m', { x: 1, nested: { y: [1] } });
      await store.create(input);
      (input.spec as { nested: { y: number[] } }).nested.y.push(2);
      const first = await store.changesSince(from);
      if (first === 'compacted') throw new Error('compacted');
      const resource = first[0]?.resource;
      if (resource === undefined) throw new Error('expected an upsert');
      (resource.spec as { x: number }).x = 5;
      const watched = await new Promise<unknown>((resolve) => {
        const stop = store.watch(from, (e) => {
          stop();
          resolve(e.resource?.spec);
        });
      });
      (watched as { x: number }).x = 6;
      const again = await store.changesSince(from);
      if (again === 'compacted') throw new Error('compacted');
      const expected = { x: 1, nested: { y: [1] } };
      expect(again[0]?.resource?.spec).toEqual(expected);
      expect(watched).toEqual({ ...expected, x: 6 });
      expect((await store.get({ type: 'Mesh', name: 'm' }))?.spec).toEqual(expected);
    });

    it('lists by type and by mesh, sorted by mesh then name', async () => {
      const store = await open();
      await store.create(secret('b', 'm2'));
      await store.create(secret('c', 'm1'));
      await store.create(secret('a', 'm2'));
      await store.create(secret('a', 'm1'));
      await store.create(mesh('m2'));
      await store.create(mesh('m1'));
      await store.create({ meta: { type: 'GlobalSecret', name: 'a' }, spec: { data: 'eA==' } });
      const ids = (rs: { meta: { mesh?: string; name: string } }[]) => rs.map((r) => `${r.meta.mesh ?? ''}/${r.meta.name}`);
      expect(ids(await store.list('Secret'))).toEqual(['m1/a', 'm1/c', 'm2/a', 'm2/b']);
      expect(ids(await store.list('Secret', { mesh: 'm2' }))).toEqual(['m2/a', 'm2/b']);
      expect(ids(await store.list('Secret', { mesh: 'm3' }))).toEqual([]);
      expect(ids(await store.list('Mesh'))).toEqual(['/m1', '/m2']);
      expect(ids(await store.list('GlobalSecret'))).toEqual(['/a']);
      expect(await store.list('Zone')).toEqual([]);
    });

    it('keeps mesh-scoped keys distinct per mesh and from global keys of the same name', async () => {
      const store = await open();
      await store.create(secret('a', 'm1', 'b25l'));
      await store.create(secret('a', 'm2', 'dHdv'));
      await store.create({ meta: { type: 'GlobalSecret', name: 'a' }, spec: { data: 'Z2xvYmFs' } });
      await store.create(secret('m1/a', 'x')); // a '/' in a name must not alias another mesh's key
      expect((await store.get({ type: 'Secret', name: 'a', mesh: 'm1' }))?.spec).toEqual({ data: 'b25l' });
      expect((await store.get({ type: 'Secret', name: 'a', mesh: 'm2' }))?.spec).toEqual({ data: 'dHdv' });
      await store.delete({ type: 'Secret', name: 'a', mesh: 'm1' });
      expect(await store.get({ type: 'Secret', name: 'a', mesh: 'm1' })).toBeUndefined();
      expect((await store.get({ type: 'Secret', name: 'a', mesh: 'm2' }))?.spec).toEqual({ data: 'dHdv' });
      expect((await store.get({ type: 'GlobalSecret', name: 'a' }))?.spec).toEqual({ data: 'Z2xvYmFs' });
      expect((await store.get({ type: 'Secret', name: 'm1/a', mesh: 'x' }))?.meta.mesh).toBe('x');
    });

    it('refuses a key whose mesh does not match the type scope', async () => {
      const store = await open();
      await expect(store.create({ meta: { type: 'Secret', name: 'a' }, spec: { data: '' } })).rejects.toThrow(/meta.mesh is required/);
      await expect(store.create({ meta: { type: 'Mesh', name: 'a', mesh: 'm' }, spec: {} })).rejects.toThrow(/must not be set/);
      expect(await store.revision()).toBe(0);
    });

    it('rejects a create of an existing key with ConflictError and keeps the first', async () => {
      const store = await open();
      const first = await store.create(secret('a', 'm1', 'Zmlyc3Q='));
      await expect(store.create(secret('a', 'm1', 'c2Vjb25k'))).rejects.toBeInstanceOf(ConflictError);
      expect(await store.get({ type: 'Secret', name: 'a', mesh: 'm1' })).toEqual(first);
      expect(await store.revision()).toBe(1);
    });

    it('updates with the current version and rejects a stale one without overwriting', async () => {
      const store = await open();
      const v1 = await store.create(mesh('m', { gen: 1 }));
      await new Promise((resolve) => setTimeout(resolve, 5)); // so the two writes fall in different milliseconds
      const v2 = await store.update(mesh('m', { gen: 2 }), v1.meta.version);
      expect(v2.meta.version).toBeGreaterThan(v1.meta.version);
      expect(v2.meta.creationTime).toBe(v1.meta.creationTime);
      expect(v2.meta.modificationTime > v1.meta.modificationTime).toBe(true);
      const stale = store.update(mesh('m', { gen: 'stale' }), v1.meta.version);
      await expect(stale).rejects.toBeInstanceOf(ConflictError);
      await expect(stale).rejects.toThrow(/stale/);
      expect(await store.get({ type: 'Mesh', name: 'm' })).toEqual(v2);
      expect(await store.revision()).toBe(v2.meta.version);
    });

    it('rejects update and delete of a missing resource with NotFoundError', async () => {
      const store = await open();
      await expect(store.update(mesh('nope'), 0)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.delete({ type: 'Mesh', name: 'nope' })).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.delete({ type: 'Secret', name: 'nope', mesh: 'm' }, 1)).rejects.toBeInstanceOf(NotFoundError);
      expect(await store.revision()).toBe(0);
    });

    it('deletes with or without an expected version, refusing a stale one', async () => {
      const store = await open();
      const a = await store.create(secret('a', 'm'));
      const b = await store.create(secret('b', 'm'));
      await store.update(secret('a', 'm', 'bmV3'), a.meta.version);
      await expect(store.delete({ type: 'Secret', name: 'a', mesh: 'm' }, a.meta.version)).rejects.toBeInstanceOf(ConflictError);
      expect(await store.get({ type: 'Secret', name: 'a', mesh: 'm' })).toBeDefined();
      await store.delete({ type: 'Secret', name: 'b', mesh: 'm' }, b.meta.version);
      await store.delete({ type: 'Secret', name: 'a', mesh: 'm' });
      expect(await store.list('Secret')).toEqual([]);
      expect(await store.revision()).toBe(5);
    });

    it('moves the revision forward on every write and only then', async () => {
      const store = await open();
      const seen: number[] = [];
      const a = await store.create(mesh('a'));
      seen.push(await store.revision());
      const a2 = await store.update(mesh('a', { x: 1 }), a.meta.version);
      seen.push(await store.revision());
      await expect(store.update(mesh('a'), a.meta.version)).rejects.toThrow();
      seen.push(await store.revision());
      await store.delete({ type: 'Mesh', name: 'a' });
      seen.push(await store.revision());
      expect(seen).toEqual([a.meta.version, a2.meta.version, a2.meta.version, a2.meta.version + 1]);
      expect(a2.meta.version).toBeGreaterThan(a.meta.version);
    });

    it('returns changes in revision order, after a revision, with a limit', async () => {
      const store = await open();
      const m = await store.create(mesh('m'));
      const s = await store.create(secret('s', 'm'));
      await store.update(mesh('m', { x: 1 }), m.meta.version);
      await store.delete({ type: 'Secret', name: 's', mesh: 'm' }, s.meta.version);
      const all = await store.changesSince(0);
      expect(revisions(all)).toEqual([1, 2, 3, 4]);
      if (all === 'compacted') return;
      expect(all.map((e) => e.op)).toEqual(['upsert', 'upsert', 'upsert', 'delete']);
      expect(all[0]?.resource).toEqual(m);
      expect(all[1]?.key).toEqual({ type: 'Secret', name: 's', mesh: 'm' });
      expect(all[2]?.resource?.spec).toEqual({ x: 1 });
      expect(all[3]).toEqual({ revision: 4, op: 'delete', key: { type: 'Secret', name: 's', mesh: 'm' } });
      expect(revisions(await store.changesSince(1, 2))).toEqual([2, 3]);
      expect(revisions(await store.changesSince(3))).toEqual([4]);
      expect(revisions(await store.changesSince(4))).toEqual([]);
    });

    it("answers 'compacted' for changes older than the retention window", async () => {
      const store = await open({ feedRetention: 3 });
      for (let i = 0; i < 5; i++) await store.create(mesh(`m${i}`));
      expect(await store.changesSince(0)).toBe('compacted');
      expect(await store.changesSince(1)).toBe('compacted');
      expect(revisions(await store.changesSince(2))).toEqual([3, 4, 5]);
      expect(revisions(await store.changesSince(2, 1))).toEqual([3]);
      const onCompacted = vi.fn();
      const late = record(store, 0, onCompacted);
      await eventually(() => expect(onCompacted).toHaveBeenCalledTimes(1));
      expect(late.events).toEqual([]);
      const current = record(store, 2);
      await eventually(() => expect(revisions(current.events)).toEqual([3, 4, 5]));
      current.stop();
    });

    it('keeps exactly the last retention changes across many writes', async () => {
      const store = await open({ feedRetention: 3 });
      for (let i = 1; i <= 20; i++) {
        await store.create(mesh(`m${i}`));
        const window = [i - 2, i - 1, i].filter((r) => r >= 1);
        expect(revisions(await store.changesSince(0 + Math.max(0, i - 3)))).toEqual(window);
        if (i > 3) expect(await store.changesSince(i - 4)).toBe('compacted');
        expect(revisions(await store.changesSince(i - 1))).toEqual([i]);
      }
    });

    it('watches past and new changes in order, with no duplicates, until stopped', async () => {
      const store = await open();
      const a = await store.create(mesh('a'));
      await store.create(secret('s', 'a'));
      const all = record(store, 0);
      const fromTwo = record(store, 2);
      await eventually(() => expect(revisions(all.events)).toEqual([1, 2]));
      await store.update(mesh('a', { x: 1 }), a.meta.version);
      await store.delete({ type: 'Secret', name: 's', mesh: 'a' });
      await eventually(() => expect(revisions(all.events)).toEqual([1, 2, 3, 4]));
      await eventually(() => expect(revisions(fromTwo.events)).toEqual([3, 4]));
      expect(all.events[2]?.resource?.spec).toEqual({ x: 1 });
      expect(all.events[3]).toMatchObject({ op: 'delete', key: { type: 'Secret', name: 's', mesh: 'a' } });
      fromTwo.stop();
      // Writes made while a listener is being called (and concurrent bursts) come in order too.
      const burst = await Promise.all([1, 2, 3, 4, 5].map((i) => store.create(mesh(`b${i}`))));
      const last = Math.max(...burst.map((r) => r.meta.version));
      await eventually(() => expect(all.events.at(-1)?.revision).toBe(last));
      expect(revisions(all.events)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(revisions(fromTwo.events)).toEqual([3, 4]);
      all.stop();
    });

    it('delivers a write made from inside a listener after the event that caused it', async () => {
      const store = await open();
      const events: ChangeEvent[] = [];
      const stop = store.watch(0, (e) => {
        events.push(e);
        if (e.revision === 1) void store.create(mesh('from-listener'));
      });
      await store.create(mesh('first'));
      await eventually(() => expect(revisions(events)).toEqual([1, 2]));
      expect(events[1]?.resource?.meta.name).toBe('from-listener');
      stop();
    });

    it('lets exactly one of several concurrent updates with the same expected version win', async () => {
      const store = await open();
      const base = await store.create(mesh('m', { writer: 'none' }));
      const results = await Promise.allSettled([1, 2, 3, 4, 5].map((i) => store.update(mesh('m', { writer: i }), base.meta.version)));
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost.every((r) => r.reason instanceof ConflictError)).toBe(true);
      const winner = won[0]?.status === 'fulfilled' ? won[0].value : undefined;
      expect(await store.get({ type: 'Mesh', name: 'm' })).toEqual(winner);
      expect(await store.revision()).toBe(base.meta.version + 1);
    });

    it('commits several writes as one: consecutive revisions, one event each, in order', async () => {
      const store = await open();
      const m = await store.create(mesh('m', { v: 1 }));
      const seen = record(store, m.meta.version);
      const written = await store.commit([
        { op: 'create', input: secret('key', 'm', 'a2V5') },
        { op: 'create', input: secret('cert', 'm', 'Y2VydA==') },
        { op: 'update', input: mesh('m', { v: 2 }), expectedVersion: m.meta.version },
      ]);
      expect(written.map((r) => [r.meta.name, r.meta.version])).toEqual([
        ['key', 2],
        ['cert', 3],
        ['m', 4],
      ]);
      expect(written[2]?.meta.creationTime).toBe(m.meta.creationTime);
      expect(await store.get({ type: 'Secret', mesh: 'm', name: 'cert' })).toEqual(written[1]);
      expect(await store.revision()).toBe(4);
      await eventually(() =>
        expect(seen.events.map((e) => [e.revision, e.key.name])).toEqual([
          [2, 'key'],
          [3, 'cert'],
          [4, 'm'],
        ]),
      );
      seen.stop();
      expect(await store.commit([])).toEqual([]);
    });

    it('writes nothing of a commit when any check fails, and says which', async () => {
      const store = await open();
      const m = await store.create(mesh('m', { v: 1 }));
      await store.create(secret('cert', 'm'));
      await expect(
        store.commit([
          { op: 'create', input: secret('key', 'm') },
          { op: 'create', input: secret('cert', 'm') },
          { op: 'update', input: mesh('m', { v: 2 }), expectedVersion: m.meta.version },
        ]),
      ).rejects.toThrow(ConflictError);
      await expect(
        store.commit([
          { op: 'create', input: secret('key', 'm') },
          { op: 'update', input: mesh('m', { v: 2 }), expectedVersion: m.meta.version + 7 },
        ]),
      ).rejects.toThrow(/version 8 is stale, the stored version is 1/);
      await expect(
        store.commit([
          { op: 'create', input: secret('key', 'm') },
          { op: 'update', input: mesh('gone'), expectedVersion: 1 },
        ]),
      ).rejects.toThrow(NotFoundError);
      await expect(
        store.commit([
          { op: 'create', input: secret('key', 'm') },
          { op: 'create', input: secret('key', 'm') },
        ]),
      ).rejects.toThrow('written twice');
      expect(await store.revision()).toBe(2);
      expect(await store.get({ type: 'Secret', mesh: 'm', name: 'key' })).toBeUndefined();
      expect((await store.get({ type: 'Mesh', name: 'm' }))?.spec).toEqual({ v: 1 });
      expect(await store.changesSince(2)).toEqual([]);
    });

    it('lets exactly one of several concurrent commits creating the same keys win', async () => {
      const store = await open();
      const results = await Promise.allSettled(
        [1, 2, 3, 4].map((i) =>
          store.commit([
            { op: 'create', input: secret('key', 'm', Buffer.from(`key ${i}`).toString('base64')) },
            { op: 'create', input: secret('cert', 'm', Buffer.from(`cert ${i}`).toString('base64')) },
          ]),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const text = async (name: string) => {
        const stored = await store.get({ type: 'Secret', mesh: 'm', name });
        return Buffer.from(String((stored?.spec as { data?: string } | undefined)?.data), 'base64').toString();
      };
      const key = await text('key');
      const cert = await text('cert');
      expect(cert.replace('cert', 'key')).toBe(key);
      expect(await store.revision()).toBe(2);
    });

    it('names its dataset with an epoch that stays the same across writes', async () => {
      const store = await open();
      const epoch = await store.epoch();
      expect(epoch).toMatch(/^[0-9a-f-]{36}$/);
      await store.create(mesh('m'));
      expect(await store.epoch()).toBe(epoch);
    });
  });
}
