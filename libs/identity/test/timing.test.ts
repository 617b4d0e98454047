import { describe, expect, it } from 'vitest';
import { authorizeRegistration, backoffMs, createRateLimiter, renewDelayMs, retryDelayMs } from '../src/index.js';
import { dataplane } from './resources.js';

describe('renewal and retry timing', () => {
  it('renews between 50% and 80% of the lifetime', () => {
    expect(renewDelayMs(0, 10_000, () => 0)).toBe(5000);
    expect(renewDelayMs(0, 10_000, () => 0.999999)).toBeCloseTo(8000, 0);
    expect(renewDelayMs(1000, 500, () => 0.5)).toBe(0); // already past: renew now
  });

  it('backs off exponentially with jitter, capped, and never waits past 90% of a valid certificate', () => {
    const opts = { baseMs: 1000, maxMs: 8000 };
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(a, opts, () => 1))).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(backoffMs(3, opts, () => 0)).toBe(2000);
    expect(retryDelayMs(5, opts, 0, 5000, () => 1)).toBe(4500);
    expect(retryDelayMs(5, opts, 0, undefined, () => 1)).toBe(8000);
  });

  it('the token bucket admits the burst at once, then one per 1/rate seconds', async () => {
    const limiter = createRateLimiter({ ratePerSecond: 50, burst: 3 });
    const start = performance.now();
    const times = await Promise.all(Array.from({ length: 8 }, () => limiter.acquire().then(() => performance.now() - start)));
    times.sort((a, b) => a - b);
    for (const [k, t] of times.entries()) expect(t).toBeGreaterThanOrEqual(((k + 1 - 3) * 1000) / 50 - 5);
    limiter.close();
    expect(() => createRateLimiter({ ratePerSecond: 0, burst: 1 })).toThrow('ratePerSecond must be positive');
  });
});

describe('authorizeRegistration', () => {
  it('allows any of several comma-separated values a token lists, and leaves unlisted tags free', () => {
    const claims = { mesh: 'default', name: 'a', tags: { 'kuma.io/service': 'web, web-admin' } };
    const ok = authorizeRegistration(claims, dataplane('a', { 'kuma.io/service': 'web-admin', version: 'v9' }));
    expect(ok).toMatchObject({ ok: true, identity: { tags: { 'kuma.io/service': ['web-admin'], version: ['v9'] } } });
    const bad = authorizeRegistration(claims, {
      ...dataplane('a', { 'kuma.io/service': 'web' }),
      networking: { address: '', inbound: [] },
    });
    expect(bad).toMatchObject({ ok: false, reason: 'bad-request', message: expect.stringContaining('invalid Dataplane') });
  });
});
