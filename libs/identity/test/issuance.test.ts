// Issuance on its own, with no socket: a Peer records what the dataplane would be told, and the
// plan (when the next attempt is) is read off the session.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openCaBackend } from '@meshca/ca';
import { createMemoryStore } from '@meshca/store';
import { createIssuance, type Peer } from '../src/issuance.js';
import { createMeshCaCache } from '../src/mesh-ca-cache.js';
import { createRateLimiter } from '../src/rate-limit.js';
import { newSession, type Session } from '../src/session.js';
import { createMeshTrusts } from '../src/trust.js';
import type { ZoneMessage } from '@meshca/dp-protocol';
import { applyMesh, builtin } from './resources.js';
import { log } from './test-zone.js';
import { advance, useVirtualTime } from './virtual-zone.js';

afterEach(() => {
  vi.useRealTimers();
});

async function setUp(expiration: string) {
  useVirtualTime();
  const store = createMemoryStore();
  await applyMesh(store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1', expiration)] });
  const cas = createMeshCaCache({ env: { get: (k) => store.get(k), log }, open: openCaBackend, log });
  const told: ZoneMessage[] = [];
  const peer: Peer = {
    live: () => true,
    send: (_s, m) => void told.push(m),
    requestCsr: async () => undefined,
    refusal: () => undefined,
    refuse: () => {},
  };
  const sessions: Session[] = [];
  const trusts = createMeshTrusts({ cas, log, retiredRootLingerMs: 0, onChanged: () => {} });
  const issuance = createIssuance({
    cas,
    trusts,
    log,
    peer,
    limiter: createRateLimiter({ ratePerSecond: 1000, burst: 1000 }),
    ready: Promise.resolve(),
    reopenSoon: () => {},
    touched: () => {},
    sessionsOf: () => sessions,
    retry: { baseMs: 1000, maxMs: 300_000 },
    rotationSpreadMs: 10_000,
    csrTimeoutMs: 1000,
  });
  const s = newSession(undefined, { mesh: 'default', name: 'web-1', tags: { 'kuma.io/service': ['web'] } }, { csr: false });
  sessions.push(s);
  return { store, cas, told, issuance, s };
}

describe('issuance without a socket', () => {
  it('issues, then plans the renewal between 50% and 80% of the lifetime, before notAfter', async () => {
    const { told, issuance, s, cas } = await setUp('1h');
    await issuance.issue(s);
    // Its MeshTLS settings first (Kuma's default: Strict), then its certificate.
    expect(told.map((m) => m.type)).toEqual(['tls', 'identity']);
    expect(told[0]).toEqual({ type: 'tls', mode: 'Strict', policies: [] });
    const lifetime = (s.held.notAfter ?? 0) - Date.now();
    expect(s.plan.dueAt).toBe(s.held.renewAt);
    expect((s.plan.dueAt ?? 0) - Date.now()).toBeGreaterThanOrEqual(lifetime * 0.5 - 1000);
    expect((s.plan.dueAt ?? 0) - Date.now()).toBeLessThanOrEqual(lifetime * 0.8);
    await advance(0.81 * 3600_000, 60_000);
    expect(told.filter((m) => m.type === 'identity')).toHaveLength(2);
    issuance.stop(s);
    await cas.close();
  });

  it('a Mesh without mTLS keeps the planned renewal; once it is due, the dataplane is told why it cannot happen', async () => {
    const { store, told, issuance, s, cas } = await setUp('1h');
    await issuance.issue(s);
    const renewAt = s.held.renewAt ?? 0;
    await applyMesh(store, 'default', undefined);
    const { before, after } = await cas.refresh('default');
    issuance.meshChanged(before, after);
    expect(told.at(-1)).toMatchObject({ type: 'waiting', reason: expect.stringContaining('has no mTLS enabled') });
    expect(s.plan.dueAt).toBe(renewAt);
    await advance(renewAt - Date.now() + 10, 60_000);
    expect(told.at(-1)).toMatchObject({
      type: 'waiting',
      reason: expect.stringMatching(/^certificate renewal is due .* and cannot be renewed: mesh "default" has no mTLS enabled/),
    });
    expect(s.plan.lastError?.message).toContain('renewal is due');
    expect(s.plan.dueAt ?? Infinity).toBeLessThan(s.held.notAfter ?? 0);
    issuance.stop(s);
    await cas.close();
  });
});
