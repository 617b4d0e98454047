// Leader election on a real redis-server: one leader at a time, a higher fencing token per term, a
// leader that cannot renew steps down before its lease can pass on, and a write fenced by a term
// that is over is refused whole.
import { randomUUID } from 'node:crypto';
import { eventually, startRedisServer, type RedisServer } from '@meshca/test';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createLeaderElection,
  createRedisStore,
  FencedError,
  type LeaderElection,
  type LeaderTerm,
  type LeaseBackend,
  type ResourceStore,
} from '../src/index.js';
import { mesh } from './contract.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

const stores: ResourceStore[] = [];
const elections: LeaderElection[] = [];
afterEach(async () => {
  await Promise.all(elections.splice(0).map((e) => e.stop()));
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

async function replica(prefix: string, holder: string, leaseMs = 1000, leases?: LeaseBackend) {
  const store = await createRedisStore(server.url, { prefix });
  stores.push(store);
  const terms: LeaderTerm[] = [];
  const lost: string[] = [];
  const election = createLeaderElection({
    leases: leases ?? store.leases,
    name: 'zone',
    holder,
    leaseMs,
    onElected: (t) => terms.push(t),
    onLost: (r) => lost.push(r),
  });
  elections.push(election);
  return { store, election, terms, lost };
}

describe('leader election on Redis', () => {
  it('elects one replica; when it stops, another takes over with a higher token', async () => {
    const prefix = `lease-${randomUUID()}:`;
    const a = await replica(prefix, 'a');
    const b = await replica(prefix, 'b');
    await eventually(() => expect(a.terms.length + b.terms.length).toBe(1));
    const [first, second] = a.terms.length === 1 ? [a, b] : [b, a];
    // Over several renewals, the other never leads.
    await new Promise((r) => setTimeout(r, 1500));
    expect(second.terms).toHaveLength(0);
    expect(second.election.leader()).toEqual({ holder: first.election.holder, token: first.terms[0]!.token });
    await first.election.stop();
    await eventually(() => expect(second.terms).toHaveLength(1), 3000);
    expect(second.terms[0]!.token).toBeGreaterThan(first.terms[0]!.token);
    expect(first.terms[0]!.signal.aborted).toBe(true);
  });

  it('a leader that cannot renew stops before its lease expires, and the next leader starts after', async () => {
    const prefix = `lease-${randomUUID()}:`;
    const real = (await createRedisStore(server.url, { prefix })).leases!;
    let cut = false;
    // The same backend, except that nothing reaches Redis once cut (a partition).
    const lost = () => Promise.reject(new Error('connection lost'));
    const partitioned: LeaseBackend = {
      ...real,
      acquire: (n, h, t) => (cut ? lost() : real.acquire(n, h, t)),
      renew: (n, v, t) => (cut ? lost() : real.renew(n, v, t)),
    };
    const a = await replica(prefix, 'a', 1000, partitioned);
    await eventually(() => expect(a.terms).toHaveLength(1));
    const b = await replica(prefix, 'b', 1000);
    cut = true;
    const cutAt = Date.now();
    await eventually(() => expect(a.lost).toHaveLength(1), 3000);
    const steppedDownAt = Date.now();
    await eventually(() => expect(b.terms).toHaveLength(1), 3000);
    const tookOverAt = Date.now();
    // a stopped before b started: never two leaders.
    expect(steppedDownAt).toBeLessThanOrEqual(tookOverAt);
    expect(a.lost[0]).toMatch(/not renewed in time/);
    // And b took over within one lease (plus a retry) of the cut.
    expect(tookOverAt - cutAt).toBeLessThan(1000 + 400);
  });

  it("refuses a write fenced by a term that is over, whole, and keeps the new leader's", async () => {
    const prefix = `lease-${randomUUID()}:`;
    const a = await replica(prefix, 'a');
    await eventually(() => expect(a.terms).toHaveLength(1));
    const oldFence = a.terms[0]!.fence;
    const oldView = a.store.fenced!(oldFence);
    await oldView.create(mesh('written-while-leading'));
    // a is paused past its lease (simulated: it stops renewing and the lease passes to b).
    await a.election.stop();
    const b = await replica(prefix, 'b');
    await eventually(() => expect(b.terms).toHaveLength(1));
    await b.store.fenced!(b.terms[0]!.fence).create(mesh('new-leader'));
    const before = await a.store.revision();
    await expect(oldView.create(mesh('late'))).rejects.toBeInstanceOf(FencedError);
    await expect(
      oldView.commit([
        { op: 'create', input: mesh('late-1') },
        { op: 'create', input: mesh('late-2') },
      ]),
    ).rejects.toBeInstanceOf(FencedError);
    await expect(oldView.delete({ type: 'Mesh', name: 'new-leader' })).rejects.toThrow(/no longer holds the lease/);
    expect(await a.store.revision()).toBe(before);
    expect((await a.store.list('Mesh')).map((m) => m.meta.name)).toEqual(['new-leader', 'written-while-leading']);
  });

  it('leads at once on a store only this process uses', async () => {
    const terms: LeaderTerm[] = [];
    const e = createLeaderElection({ leases: undefined, name: 'zone', holder: 'solo', onElected: (t) => terms.push(t) });
    elections.push(e);
    await eventually(() => expect(terms).toHaveLength(1));
    expect(e.term()).toBeDefined();
  });
});
