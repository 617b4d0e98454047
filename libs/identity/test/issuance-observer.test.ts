// What issuance tells its observer (the zone's metrics): each CA call with its mesh, backend and
// type, and each failed attempt with why it failed.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CaError, openCaBackend, type CaBackend } from '@meshca/ca';
import { createMemoryStore } from '@meshca/store';
import { createIssuance, type Peer } from '../src/issuance.js';
import { createMeshCaCache, type OpenBackend } from '../src/mesh-ca-cache.js';
import type { IssuanceFailureReason, IssuanceObserver, IssuanceTarget } from '../src/observer.js';
import { createRateLimiter } from '../src/rate-limit.js';
import { newSession } from '../src/session.js';
import { createMeshTrusts } from '../src/trust.js';
import { applyMesh, builtin } from './resources.js';
import { log } from './test-zone.js';
import { useVirtualTime } from './virtual-zone.js';

afterEach(() => {
  vi.useRealTimers();
});

interface Seen {
  calls: { target: IssuanceTarget; ok?: boolean }[];
  roots: { target: IssuanceTarget; ok?: boolean }[];
  failures: { mesh: string; target: IssuanceTarget | undefined; reason: IssuanceFailureReason }[];
}

function recorder(): { observer: IssuanceObserver; seen: Seen } {
  const seen: Seen = { calls: [], roots: [], failures: [] };
  const observer: IssuanceObserver = {
    caCall(target) {
      const call: Seen['calls'][number] = { target };
      seen.calls.push(call);
      return (ok) => void (call.ok = ok);
    },
    rootsCall(target) {
      const call: Seen['roots'][number] = { target };
      seen.roots.push(call);
      return (ok) => void (call.ok = ok);
    },
    failed: (mesh, target, reason) => void seen.failures.push({ mesh, target, reason }),
  };
  return { observer, seen };
}

async function issueOnce(opts: { open?: OpenBackend; csr?: boolean }) {
  useVirtualTime();
  const store = createMemoryStore();
  await applyMesh(store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1', '1h')] });
  const { observer, seen } = recorder();
  const cas = createMeshCaCache({ env: { get: (k) => store.get(k), log }, open: opts.open ?? openCaBackend, log, observer });
  const peer: Peer = { live: () => true, send: () => {}, requestCsr: async () => undefined, refusal: () => undefined, refuse: () => {} };
  const issuance = createIssuance({
    cas,
    trusts: createMeshTrusts({ cas, log, retiredRootLingerMs: 0, onChanged: () => {} }),
    log,
    peer,
    limiter: createRateLimiter({ ratePerSecond: 1000, burst: 1000 }),
    ready: Promise.resolve(),
    reopenSoon: () => {},
    touched: () => {},
    sessionsOf: () => [],
    retry: { baseMs: 1000, maxMs: 300_000 },
    rotationSpreadMs: 10_000,
    csrTimeoutMs: 1000,
    observer,
  });
  const s = newSession(undefined, { mesh: 'default', name: 'web-1', tags: { 'kuma.io/service': ['web'] } }, { csr: opts.csr ?? false });
  await issuance.issue(s);
  issuance.stop(s);
  await cas.close();
  return { seen, s };
}

const target = { mesh: 'default', backend: 'ca-1', type: 'builtin' };

/** The builtin CA of the mesh, with `issue` replaced. */
const withIssue =
  (issue: CaBackend['issue']): OpenBackend =>
  async (mesh, backend, env) => {
    const ca = await openCaBackend(mesh, backend, env);
    return { ...ca, roots: () => ca.roots(), close: () => ca.close(), health: () => ca.health(), issue };
  };

describe('issuance observer', () => {
  it('sees the root chain read and the CA call, with mesh, backend and type, and no failure', async () => {
    const { seen, s } = await issueOnce({});
    expect(s.held.serial).toBeDefined();
    expect(seen.roots).toEqual([{ target, ok: true }]);
    expect(seen.calls).toEqual([{ target, ok: true }]);
    expect(seen.failures).toEqual([]);
  });

  it('a CA that refuses: the call ends not ok, the failure is ca_refused and names the backend', async () => {
    const { seen } = await issueOnce({ open: withIssue(() => Promise.reject(new CaError('permission denied', false))) });
    expect(seen.calls).toEqual([{ target, ok: false }]);
    expect(seen.failures).toEqual([{ mesh: 'default', target, reason: 'ca_refused' }]);
  });

  it('a CA that fails in a way worth retrying: ca_error', async () => {
    const { seen } = await issueOnce({ open: withIssue(() => Promise.reject(new CaError('503 sealed', true))) });
    expect(seen.failures).toEqual([{ mesh: 'default', target, reason: 'ca_error' }]);
  });

  it('a backend that cannot be opened: ca_unavailable, before any CA call', async () => {
    const { seen } = await issueOnce({ open: () => Promise.reject(new Error('connection refused')) });
    expect(seen.calls).toEqual([]);
    expect(seen.failures).toEqual([{ mesh: 'default', target: undefined, reason: 'ca_unavailable' }]);
  });

  it('a dataplane that sends no CSR: csr_timeout', async () => {
    const { seen } = await issueOnce({ csr: true });
    expect(seen.calls).toEqual([]);
    expect(seen.failures).toEqual([{ mesh: 'default', target: undefined, reason: 'csr_timeout' }]);
  });
});
