// Fault runs as tests (their figures are also in `npm run bench -- --only faults`): what a
// control plane must survive without losing an acknowledged write or a dataplane's identity.
import { describe, expect, it } from 'vitest';
import { killGlobalDuringApplies, restartRedisUnderLoad, restartZone } from '../src/faults.js';

describe('fault runs', () => {
  it('kill -9 of global at random moments of concurrent applies on Redis: no acknowledged write lost, nothing half-written', async () => {
    const r = await killGlobalDuringApplies({ rounds: 4, writers: 6 });
    expect(r.acknowledged).toBeGreaterThan(20);
    expect(r.lost).toEqual([]);
    expect(r.halfWritten).toEqual([]);
  }, 120_000);

  it('Redis restarted under load: writes refused fast with 503 meanwhile, none acknowledged lost, back within seconds', async () => {
    const r = await restartRedisUnderLoad({ downMs: 1500, writers: 4 });
    expect(r.slowestRefusalMs).toBeLessThan(2000);
    expect(Object.keys(r.refusedWhileDown).filter((s) => s !== '503' && r.refusedWhileDown[s] !== 0)).toEqual([]);
    expect(r.lost).toEqual([]);
    expect(r.halfWritten).toEqual([]);
    expect(r.recoveryMs).toBeLessThan(5000);
  }, 120_000);

  it.each(['redis', 'memory'] as const)(
    'a zone on %s killed and restarted: every dataplane is back and re-issued within 5 s of the zone listening',
    async (store) => {
      // Down long enough for an agent's backoff to grow: what brings it back is that backoff's ceiling.
      const r = await restartZone({ store, dataplanes: 20, downMs: 8000 });
      expect(r.keptValidCertificates).toBe(true);
      expect(r.reconnectedMs).toBeLessThan(5000);
      expect(r.reissuedMs).toBeLessThan(5000);
    },
    120_000,
  );
});
