// The promise of a certificate control plane: a connected dataplane's certificate never expires
// with nobody renewing it. Checked on virtual time against the real identity service, builtin CAs
// and the memory store, first on the sequences that broke it, then on random ones.
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Mtls } from '@meshca/api';
import { createMemoryStore, type ResourceStore } from '@meshca/store';
import { applyMesh, builtin } from './resources.js';
import { advance, createCaSwitch, drain, startVirtualZone, useVirtualTime, type CaSwitch, type VirtualZone } from './virtual-zone.js';

let zone: VirtualZone | undefined;
afterEach(async () => {
  await zone?.close();
  zone = undefined;
  vi.useRealTimers();
});

const mtls = (enabled: string, expiration: string): Mtls => ({
  enabledBackend: enabled,
  backends: [builtin('ca-1', expiration), builtin('ca-2', expiration)],
});

async function start(store: ResourceStore, names: string[], caSwitch: CaSwitch = createCaSwitch()): Promise<VirtualZone> {
  zone = startVirtualZone({ store, caSwitch });
  for (const name of names) zone.connect(name);
  await drain();
  return zone;
}

/** Global wiped and re-applied (a memory-store restart): the zone loses the Mesh and its CA Secrets, then gets new ones. */
async function deleteMesh(store: ResourceStore): Promise<void> {
  for (const secret of await store.list('Secret', { mesh: 'default' })) await store.delete(secret.meta);
  await store.delete({ type: 'Mesh', name: 'default' });
}

/**
 * Checks the invariant for every connected dataplane: something is planned (an issuance in flight or
 * a next attempt), before notAfter while its certificate is valid; an expired one is reported.
 */
function checkInvariant(z: VirtualZone, context: string): void {
  const now = Date.now();
  for (const dp of z.dataplanes.values()) {
    if (!dp.connected) continue;
    const st = z.state(dp.name);
    const where = `${context}: dataplane ${dp.name} at +${(now - Date.parse('2026-01-01T00:00:00Z')) / 1000}s holding notAfter ${dp.notAfter === undefined ? '-' : new Date(dp.notAfter).toISOString()}: ${JSON.stringify(st)}`;
    expect(st, where).toBeDefined();
    if (st?.issuing === true) continue;
    expect(st?.nextAttemptAt, where).toBeDefined();
    if (dp.notAfter === undefined) continue;
    if (dp.notAfter > now) expect(Date.parse(st?.nextAttemptAt ?? ''), where).toBeLessThan(dp.notAfter);
    else expect(st?.lastError?.message, where).toBeDefined();
  }
}

describe('a connected dataplane always has a renewal planned before notAfter', () => {
  it('repro A: mTLS removed past the renewal time, then applied again unchanged: certificates are renewed before they expire', async () => {
    useVirtualTime();
    const store = createMemoryStore();
    await applyMesh(store, 'default', mtls('ca-1', '2m'));
    const z = await start(store, ['web', 'backend']);
    const first = new Map([...z.dataplanes.values()].map((d) => [d.name, d.serial]));
    expect([...first.values()].every((s) => s !== undefined)).toBe(true);

    await applyMesh(store, 'default', undefined);
    await advance(100_000); // past 80% of 2m: the renewal came while the Mesh had no mTLS
    for (const dp of z.dataplanes.values()) {
      expect(dp.waiting).toContain('renewal is due');
      expect(z.state(dp.name)?.lastError?.message).toContain('has no mTLS enabled');
    }
    await applyMesh(store, 'default', mtls('ca-1', '2m'));
    await advance(5_000);
    for (const dp of z.dataplanes.values()) {
      expect(dp.serial).not.toBe(first.get(dp.name));
      expect(dp.notAfter ?? 0).toBeGreaterThan(Date.now() + 100_000);
      expect(dp.waiting).toBeUndefined();
      expect(z.state(dp.name)?.lastError).toBeUndefined();
    }
  });

  it('repro B: the Mesh deleted and re-applied unchanged before expiry (global restarted on memory): renewed', async () => {
    useVirtualTime();
    const store = createMemoryStore();
    await applyMesh(store, 'default', mtls('ca-1', '3m'));
    const z = await start(store, ['web']);
    const first = z.dataplanes.get('web')?.serial;
    // The same CA comes back (a Vault or provided backend, or the builtin Secrets re-applied), so
    // nothing about the enabled backend changed by the time the Mesh returns.
    const secrets = await store.list('Secret', { mesh: 'default' });
    await deleteMesh(store);
    await advance(150_000);
    expect(z.state('web')?.lastError?.message).toContain('does not exist in this zone');
    for (const secret of secrets) await store.create({ meta: secret.meta, spec: secret.spec });
    await applyMesh(store, 'default', mtls('ca-1', '3m'));
    await advance(5_000);
    const dp = z.dataplanes.get('web');
    expect(dp?.serial).not.toBe(first);
    expect(dp?.notAfter ?? 0).toBeGreaterThan(Date.now() + 150_000);
  });

  it('a zone restarted while its CA is down retries before the certificate the dataplane holds expires', async () => {
    useVirtualTime();
    const store = createMemoryStore();
    const ca = createCaSwitch();
    await applyMesh(store, 'default', mtls('ca-1', '1h'));
    const z = await start(store, ['web'], ca);
    const held = z.dataplanes.get('web')?.notAfter ?? 0;
    ca.down = true;
    await advance(50 * 60_000);
    await z.restart();
    checkInvariant(z, 'after the restart');
    ca.down = false;
    await advance(held - Date.now() - 1000);
    expect(z.dataplanes.get('web')?.notAfter ?? 0).toBeGreaterThan(held);
  });

  type Action =
    | { kind: 'advance'; ms: number }
    | { kind: 'switch'; to: 'ca-1' | 'ca-2' }
    | { kind: 'expiration'; value: '1m' | '3m' | '10m' }
    | { kind: 'mtls-off' }
    | { kind: 'mesh-deleted' }
    | { kind: 'mesh-applied' }
    | { kind: 'ca-down' }
    | { kind: 'ca-up' }
    | { kind: 'zone-restart' }
    | { kind: 'disconnect'; dp: number }
    | { kind: 'connect'; dp: number };

  const action: fc.Arbitrary<Action> = fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 400_000 }) }), weight: 5 },
    fc.record({ kind: fc.constant('switch' as const), to: fc.constantFrom('ca-1' as const, 'ca-2' as const) }),
    fc.record({ kind: fc.constant('expiration' as const), value: fc.constantFrom('1m' as const, '3m' as const, '10m' as const) }),
    fc.constant({ kind: 'mtls-off' as const }),
    fc.constant({ kind: 'mesh-deleted' as const }),
    { arbitrary: fc.constant({ kind: 'mesh-applied' as const }), weight: 2 },
    fc.constant({ kind: 'ca-down' as const }),
    fc.constant({ kind: 'ca-up' as const }),
    fc.constant({ kind: 'zone-restart' as const }),
    fc.record({ kind: fc.constant('disconnect' as const), dp: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ kind: fc.constant('connect' as const), dp: fc.integer({ min: 0, max: 2 }) }),
  );

  it('holds through random Mesh changes, removals, global and zone restarts, CA outages and reconnects; once healthy, all are renewed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 5, maxLength: 25 }), async (actions) => {
        useVirtualTime();
        const store = createMemoryStore();
        const ca = createCaSwitch();
        const names = ['dp-0', 'dp-1', 'dp-2'];
        const mesh = { enabled: 'ca-1', expiration: '3m', on: true, exists: true };
        const applyModel = () => applyMesh(store, 'default', mesh.on ? mtls(mesh.enabled, mesh.expiration) : undefined);
        await applyModel();
        const z = await start(store, names, ca);
        try {
          for (const [i, a] of actions.entries()) {
            switch (a.kind) {
              case 'advance':
                await advance(a.ms, 20_000);
                break;
              case 'switch':
                mesh.enabled = a.to;
                if (mesh.exists) await applyModel();
                break;
              case 'expiration':
                mesh.expiration = a.value;
                if (mesh.exists) await applyModel();
                break;
              case 'mtls-off':
                mesh.on = false;
                if (mesh.exists) await applyModel();
                break;
              case 'mesh-deleted':
                if (mesh.exists) await deleteMesh(store);
                mesh.exists = false;
                break;
              case 'mesh-applied':
                mesh.on = true;
                mesh.exists = true;
                await applyModel();
                break;
              case 'ca-down':
                ca.down = true;
                break;
              case 'ca-up':
                ca.down = false;
                break;
              case 'zone-restart':
                await z.restart();
                break;
              case 'disconnect':
                z.disconnect(names[a.dp] as string);
                break;
              case 'connect':
                z.connect(names[a.dp] as string);
                break;
            }
            await drain();
            checkInvariant(z, `after step ${i} (${JSON.stringify(a)})`);
          }
          // Heal everything: every dataplane ends up holding a valid certificate, renewed on its own from then on.
          ca.down = false;
          mesh.on = true;
          mesh.exists = true;
          await applyModel();
          for (const name of names) z.connect(name);
          await advance(25 * 60_000, 20_000);
          checkInvariant(z, 'healed');
          for (const dp of z.dataplanes.values()) {
            expect(dp.notAfter ?? 0, `${dp.name} after healing`).toBeGreaterThan(Date.now());
            expect(z.state(dp.name)?.lastError, `${dp.name} after healing`).toBeUndefined();
          }
        } finally {
          await z.close();
          zone = undefined;
          vi.useRealTimers();
        }
      }),
      { numRuns: Number(process.env.MESHCA_PROPERTY_RUNS ?? 100) },
    );
  }, 120_000);
});

describe('a refusal by the CA is not retried in a loop', () => {
  it('retries a refusal slowly (and at once when the Mesh changes), an outage with backoff; both before notAfter', async () => {
    useVirtualTime();
    const store = createMemoryStore();
    const ca = createCaSwitch();
    await applyMesh(store, 'default', mtls('ca-1', '1h'));
    const z = await start(store, ['web'], ca);
    const held = z.dataplanes.get('web')?.notAfter ?? 0;
    await advance(48 * 60_000); // past the renewal (50-80% of 1h)
    expect(z.dataplanes.get('web')?.notAfter).toBeGreaterThan(held);

    ca.refusing = true;
    const renewalAt = Date.parse(z.state('web')?.renewalAt ?? '');
    const refusedAttempts = ca.attempts;
    await advance(renewalAt - Date.now() + 10 * 60_000); // to its renewal, then 10 minutes of refusals
    // A slow re-check (5 min), not a 1s-doubling loop (which would make ~9 attempts here).
    expect(ca.attempts - refusedAttempts).toBeGreaterThanOrEqual(1);
    expect(ca.attempts - refusedAttempts).toBeLessThanOrEqual(3);
    expect(z.state('web')?.lastError?.message).toContain('permission denied');
    checkInvariant(z, 'refusing');

    // Fixing the Mesh's Secrets or settings is what ends a refusal: the zone tries again at once.
    ca.refusing = false;
    const before = ca.attempts;
    await applyMesh(store, 'default', mtls('ca-1', '2h'));
    await advance(2_000);
    expect(ca.attempts).toBeGreaterThan(before);
    expect(z.state('web')?.lastError).toBeUndefined();

    ca.down = true;
    const downAttempts = ca.attempts;
    await advance(2 * 60 * 60_000 * 0.85); // through its renewal window, the CA down throughout
    expect(ca.attempts - downAttempts).toBeGreaterThan(5);
    checkInvariant(z, 'CA down');
  });
});
