import { randomUUID } from 'node:crypto';
import { eventually, startRedisServer, type RedisServer } from '@meshca/test';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMemoryStore, createRedisStore, openStore, type ResourceStore } from '../src/index.js';
import { mesh, record, runStoreContract, secret } from './contract.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

// Each store gets its own prefix: one redis-server, no state shared between tests.
const fresh = () => `test-${randomUUID()}:`;

runStoreContract('redis', (opts) => createRedisStore(server.url, { prefix: fresh(), ...opts }));

describe('Redis store across processes and restarts', () => {
  const opened: ResourceStore[] = [];
  const open = async (prefix: string, opts: { feedRetention?: number } = {}) => {
    const store = await createRedisStore(server.url, { prefix, ...opts });
    opened.push(store);
    return store;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  it('a second store on the same Redis sees writes through get, list, revision and watch', async () => {
    const prefix = fresh();
    const a = await open(prefix);
    const b = await open(prefix);
    const watched = record(b, 0);
    const m = await a.create(mesh('default'));
    await b.create(secret('s', 'default'));
    await a.update(mesh('default', { x: 1 }), m.meta.version);
    expect((await b.get({ type: 'Mesh', name: 'default' }))?.spec).toEqual({ x: 1 });
    expect((await a.list('Secret')).map((r) => r.meta.name)).toEqual(['s']);
    expect(await a.revision()).toBe(3);
    expect(await b.revision()).toBe(3);
    await eventually(() => expect(watched.events.map((e) => e.revision)).toEqual([1, 2, 3]));
    expect(watched.events.map((e) => e.key.type)).toEqual(['Mesh', 'Secret', 'Mesh']);
    watched.stop();
  });

  it('stores with different prefixes do not see each other', async () => {
    const a = await open(fresh());
    const b = await open(fresh());
    await a.create(mesh('default'));
    expect(await b.get({ type: 'Mesh', name: 'default' })).toBeUndefined();
    expect(await b.revision()).toBe(0);
  });

  it('keeps data, revision and change feed when the control plane closes and reopens the store', async () => {
    const prefix = fresh();
    const before = await open(prefix);
    const m = await before.create(mesh('default', { mtls: { backends: [] } }));
    await before.create(secret('s', 'default'));
    await before.delete({ type: 'Secret', name: 's', mesh: 'default' });
    await before.close();
    const after = await open(prefix);
    expect(await after.get({ type: 'Mesh', name: 'default' })).toEqual(m);
    expect(await after.revision()).toBe(3);
    const feed = await after.changesSince(0);
    expect(feed === 'compacted' ? feed : feed.map((e) => `${e.revision}:${e.op}:${e.key.type}`)).toEqual([
      '1:upsert:Mesh',
      '2:upsert:Secret',
      '3:delete:Secret',
    ]);
    const next = await after.update(mesh('default'), m.meta.version);
    expect(next.meta.version).toBe(4);
  });

  it('trims the feed to the retention of the writer', async () => {
    const store = await open(fresh(), { feedRetention: 2 });
    for (let i = 0; i < 4; i++) await store.create(mesh(`m${i}`));
    expect(await store.changesSince(1)).toBe('compacted');
    const kept = await store.changesSince(2);
    expect(kept === 'compacted' ? kept : kept.map((e) => e.revision)).toEqual([3, 4]);
  });

  it('watch resumes from its last delivered revision after redis-server restarts', async () => {
    const prefix = fresh();
    const writer = await open(prefix);
    const reader = await open(prefix);
    const watched = record(reader, 0);
    await writer.create(mesh('one'));
    await eventually(() => expect(watched.events.map((e) => e.revision)).toEqual([1]));
    await server.restart();
    // A write while the client reconnects fails at once (StoreUnavailableError, an API's 503): retried as a caller would.
    await eventually(async () =>
      expect(
        await writer.create(mesh('two')).then(
          () => 'ok',
          (err: Error) => err.name,
        ),
      ).toBe('ok'),
    );
    await writer.create(mesh('three'));
    await eventually(() => expect(watched.events.map((e) => e.revision)).toEqual([1, 2, 3]));
    expect(watched.events.map((e) => e.resource?.meta.name)).toEqual(['one', 'two', 'three']);
    expect((await reader.get({ type: 'Mesh', name: 'one' }))?.meta.version).toBe(1);
    watched.stop();
  });

  it('stops a watch with onCompacted when Redis loses the dataset instead of mixing two histories', async () => {
    const prefix = fresh();
    const writer = await open(prefix);
    const onCompacted = vi.fn();
    const watched = record(await open(prefix), 0, onCompacted);
    await writer.create(mesh('one'));
    await writer.create(mesh('two'));
    await eventually(() => expect(watched.events.map((e) => e.revision)).toEqual([1, 2]));
    // What a restart without persistence does to this prefix's keys.
    const admin = new Redis(server.url);
    await admin.del(...(await admin.keys(`${prefix}*`)));
    admin.disconnect();
    for (const name of ['a', 'b', 'c']) await writer.create(mesh(name));
    await eventually(() => expect(onCompacted).toHaveBeenCalledTimes(1));
    expect(watched.events.map((e) => e.resource?.meta.name)).toEqual(['one', 'two']);
  });

  it('has an epoch shared by processes on one Redis prefix and changes when Redis loses the data; a memory store has its own', async () => {
    const prefix = fresh();
    const a = await open(prefix);
    const b = await open(prefix);
    const epoch = await a.epoch();
    expect(await b.epoch()).toBe(epoch);
    const admin = new Redis(server.url);
    await admin.del(...(await admin.keys(`${prefix}*`)));
    admin.disconnect();
    const after = await b.epoch();
    expect(after).not.toBe(epoch);
    expect(await a.epoch()).toBe(after);
    expect(await createMemoryStore().epoch()).not.toBe(await createMemoryStore().epoch());
  });
});

describe('openStore', () => {
  it('opens memory by default and for "memory"', async () => {
    for (const spec of [undefined, 'memory']) {
      const store = await openStore(spec);
      await store.create(mesh('m'));
      expect(await store.revision()).toBe(1);
      await store.close();
    }
  });

  it('opens Redis for a redis:// URL, with the prefix from the query', async () => {
    const prefix = fresh();
    const viaUrl = await openStore(`${server.url}/0?prefix=${encodeURIComponent(prefix)}`);
    const direct = await createRedisStore(server.url, { prefix });
    try {
      await viaUrl.create(mesh('m'));
      expect((await direct.get({ type: 'Mesh', name: 'm' }))?.meta.version).toBe(1);
    } finally {
      await viaUrl.close();
      await direct.close();
    }
  });

  it('refuses an unknown form, naming the accepted ones and hiding a password', async () => {
    await expect(openStore('etcd://user:hunter2@host:2379')).rejects.toThrow(/use "memory".*redis:\/\/.*rediss:\/\//);
    await expect(openStore('etcd://user:hunter2@host:2379')).rejects.not.toThrow(/hunter2/);
    await expect(openStore('mem')).rejects.toThrow(/unknown store "mem"/);
  });

  it('fails with the address, without the password, when Redis is unreachable', async () => {
    const err = await openStore('redis://:hunter2@127.0.0.1:1').catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/cannot connect to Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1/);
    expect((err as Error).message).not.toMatch(/hunter2/);
  });
});
