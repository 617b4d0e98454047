import { describe, expect, it } from 'vitest';
import { eventually } from '@meshca/test/eventually';
import { createMemoryStore } from '../src/index.js';
import { mesh, runStoreContract, secret } from './contract.js';

runStoreContract('memory', async (opts) => createMemoryStore(opts));

describe('memory store change feed bounded by bytes', () => {
  it('drops old versions once they hold more than feedRetentionBytes; a reader behind that resumes from a snapshot', async () => {
    const store = createMemoryStore({ feedRetentionBytes: 8 * 1024 * 1024 });
    const big = (i: number) => mesh('big', { pad: `${i}`.padEnd(1024 * 1024, 'x') });
    let version = (await store.create(big(0))).meta.version;
    for (let i = 1; i < 60; i++) version = (await store.update(big(i), version)).meta.version;
    // About 8 of the 1 MiB versions fit: the feed still has the last few, not all sixty.
    expect(await store.changesSince(version - 5)).toHaveLength(5);
    expect(await store.changesSince(version - 10)).toBe('compacted');
    expect(await store.changesSince(0)).toBe('compacted');
    // A watcher that has read everything keeps receiving.
    const seen: number[] = [];
    store.watch(version, (e) => seen.push(e.revision));
    await store.create(secret('s', 'big'));
    await eventually(() => expect(seen).toEqual([version + 1]));
    // The newest change stays even when it alone is larger than the bound.
    const tiny = createMemoryStore({ feedRetentionBytes: 1000 });
    const r = await tiny.create(big(1));
    expect(await tiny.changesSince(r.meta.version - 1)).toHaveLength(1);
  });
});
