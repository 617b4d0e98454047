import { describe, expect, it } from 'vitest';
import type { MeshSpec } from '@meshca/api';
import { caStateOfInsight, checkRotation, rotationState, type DataplaneCaState } from '../src/rotation.js';

const builtin = (name: string) => ({ name, type: 'builtin' as const, conf: {} });
const mesh = (enabled: string, ...names: string[]): MeshSpec => ({ mtls: { enabledBackend: enabled, backends: names.map(builtin) } });
const dp = (zone: string, name: string, bundle: string[], cert: string, connected = true): DataplaneCaState => ({
  zone,
  name,
  connected,
  bundleBackends: bundle,
  certificateBackend: cert,
});

describe('CA rotation validators (the three steps of the rotation page)', () => {
  it('lets step 1 (add a backend) through and names it', () => {
    const r = checkRotation(mesh('ca-1', 'ca-1'), mesh('ca-1', 'ca-1', 'ca-2'), {
      dataplanes: [dp('z1', 'a', ['ca-1'], 'ca-1')],
      offlineZones: [],
    });
    expect(r).toEqual({ step: 'add', errors: [] });
  });

  it('refuses step 2 (switch) while connected dataplanes do not trust the new backend, counting them per zone', () => {
    const r = checkRotation(mesh('ca-1', 'ca-1', 'ca-2'), mesh('ca-2', 'ca-1', 'ca-2'), {
      dataplanes: [
        dp('z1', 'a', ['ca-1'], 'ca-1'),
        dp('z1', 'b', ['ca-1'], 'ca-1'),
        dp('z2', 'c', ['ca-1', 'ca-2'], 'ca-1'),
        dp('z2', 'd', ['ca-1'], 'ca-1'),
        dp('z2', 'gone', ['ca-1'], 'ca-1', false),
      ],
      offlineZones: [],
    });
    expect(r.step).toBe('switch');
    expect(r.errors).toEqual([
      {
        field: 'mtls.enabledBackend',
        message: expect.stringContaining('3 dataplanes do not trust backend "ca-2" yet (zone "z1": 2 (a, b), zone "z2": 1 (d))'),
      },
    ]);
    expect(r.errors[0]?.message).toContain('--force-rotation');
  });

  it('allows step 2 once every connected dataplane trusts the new backend', () => {
    const r = checkRotation(mesh('ca-1', 'ca-1', 'ca-2'), mesh('ca-2', 'ca-1', 'ca-2'), {
      dataplanes: [dp('z1', 'a', ['ca-1', 'ca-2'], 'ca-1'), dp('z2', 'old', ['ca-1'], 'ca-1', false)],
      offlineZones: [],
    });
    expect(r).toEqual({ step: 'switch', errors: [] });
  });

  it('refuses step 3 (remove) while a dataplane still holds a certificate from the removed backend', () => {
    const r = checkRotation(mesh('ca-2', 'ca-1', 'ca-2'), mesh('ca-2', 'ca-2'), {
      dataplanes: [dp('z1', 'a', ['ca-1', 'ca-2'], 'ca-2'), dp('z2', 'b', ['ca-1', 'ca-2'], 'ca-1')],
      offlineZones: [],
    });
    expect(r.step).toBe('remove');
    expect(r.errors).toEqual([
      {
        field: 'mtls.backends',
        message: expect.stringContaining(
          'cannot remove backend "ca-1" yet: 1 dataplane still holds a certificate it issued (zone "z2": 1 (b))',
        ),
      },
    ]);
  });

  it('after the switch, a refused removal says only the re-issue is left (not to switch again)', () => {
    const r = checkRotation(mesh('ca-2', 'ca-1', 'ca-2'), mesh('ca-2', 'ca-2'), {
      dataplanes: [dp('z2', 'b', ['ca-1', 'ca-2'], 'ca-1')],
      offlineZones: [],
    });
    expect(r.errors[0]?.message).toContain('Wait until those dataplanes are re-issued from "ca-2"');
    expect(r.errors[0]?.message).not.toContain('Switch enabledBackend away');
    // Before the switch, the switch is what comes next.
    const before = checkRotation(mesh('ca-1', 'ca-1', 'ca-2'), mesh('ca-1', 'ca-2'), {
      dataplanes: [dp('z2', 'b', ['ca-1', 'ca-2'], 'ca-1')],
      offlineZones: [],
    });
    expect(before.errors[0]?.message).toContain('Switch enabledBackend away from it');
  });

  it('names the step refused: a switch that may be taken with a removal that may not is a refused "remove"', () => {
    const r = checkRotation(mesh('ca-1', 'ca-1', 'ca-2'), mesh('ca-2', 'ca-2'), {
      dataplanes: [dp('z1', 'a', ['ca-1', 'ca-2'], 'ca-1')],
      offlineZones: [],
    });
    expect(r.step).toBe('remove');
    expect(r.errors.map((e) => e.field)).toEqual(['mtls.backends']);
  });

  it("allows step 3 once no connected dataplane holds the old backend's certificate", () => {
    const r = checkRotation(mesh('ca-2', 'ca-1', 'ca-2'), mesh('ca-2', 'ca-2'), {
      dataplanes: [dp('z1', 'a', ['ca-1', 'ca-2'], 'ca-2')],
      offlineZones: [],
    });
    expect(r).toEqual({ step: 'remove', errors: [] });
  });

  it('names offline zones in the refusal of a switch or a removal', () => {
    const r = checkRotation(mesh('ca-1', 'ca-1', 'ca-2'), mesh('ca-2', 'ca-1', 'ca-2'), { dataplanes: [], offlineZones: ['z3'] });
    expect(r.errors[0]?.message).toContain('zone "z3" is offline');
  });

  it('does not check a Mesh that is new, or that turns mTLS on or off', () => {
    const view = { dataplanes: [dp('z1', 'a', [], 'x')], offlineZones: ['z9'] };
    expect(checkRotation(undefined, mesh('ca-2', 'ca-2'), view).errors).toEqual([]);
    expect(checkRotation({}, mesh('ca-2', 'ca-2'), view).errors).toEqual([]);
  });

  it('refuses a switch to a backend added in the same apply when dataplanes exist (steps 1 and 2 at once)', () => {
    const r = checkRotation(mesh('ca-1', 'ca-1'), mesh('ca-2', 'ca-1', 'ca-2'), {
      dataplanes: [dp('z1', 'a', ['ca-1'], 'ca-1')],
      offlineZones: [],
    });
    expect(r.errors.map((e) => e.field)).toEqual(['mtls.enabledBackend']);
  });
});

describe('turning mTLS off is checked like removing its backends (issue 13, item 3)', () => {
  const holding = { dataplanes: [dp('z1', 'a', ['ca-1'], 'ca-1'), dp('z2', 'b', ['ca-1'], 'ca-1')], offlineZones: [] };

  it('refuses a Mesh without mtls while dataplanes hold certificates from its backends', () => {
    const r = checkRotation(mesh('ca-1', 'ca-1'), {}, holding);
    expect(r.step).toBe('remove');
    expect(r.errors).toEqual([
      {
        field: 'mtls',
        message: expect.stringContaining(
          'cannot remove backend "ca-1" yet (a Mesh without mtls removes every backend): 2 dataplanes still hold certificates it issued (zone "z1": 1 (a), zone "z2": 1 (b))',
        ),
      },
    ]);
    expect(r.errors[0]?.message).toContain('--force-rotation');
  });

  it('refuses unsetting enabledBackend while dataplanes hold its certificates, saying how to proceed', () => {
    const r = checkRotation(mesh('ca-1', 'ca-1'), { mtls: { backends: [builtin('ca-1')] } }, holding);
    expect(r.step).toBe('disable');
    expect(r.errors).toEqual([
      {
        field: 'mtls.enabledBackend',
        message: expect.stringContaining('cannot turn mTLS off yet: 2 dataplanes still hold certificates backend "ca-1" issued'),
      },
    ]);
  });

  it('names an offline zone, and lets mTLS go when nothing holds its certificates', () => {
    expect(checkRotation(mesh('ca-1', 'ca-1'), {}, { dataplanes: [], offlineZones: ['z3'] }).errors[0]?.message).toContain(
      'zone "z3" is offline',
    );
    expect(checkRotation(mesh('ca-1', 'ca-1'), {}, { dataplanes: [dp('z1', 'a', [], 'ca-1', false)], offlineZones: [] }).errors).toEqual(
      [],
    );
  });

  it('does not count an expired certificate as held', () => {
    const now = Date.parse('2026-06-01T00:00:00Z');
    const insight = (name: string, notAfter: string) => ({
      name,
      zone: 'z1',
      connected: true,
      mTLS: { issuedBackend: 'ca-1', supportedBackends: ['ca-1'], certificateExpirationTime: notAfter },
    });
    const states = [
      caStateOfInsight(insight('valid', '2026-06-01T01:00:00Z'), now),
      caStateOfInsight(insight('expired', '2026-05-31T23:00:00Z'), now),
    ];
    expect(states[1]).toMatchObject({ name: 'expired', expiredBackend: 'ca-1' });
    expect(states[1]?.certificateBackend).toBeUndefined();
    expect(rotationState(mesh('ca-1', 'ca-1'), states)).toEqual([
      { backend: 'ca-1', type: 'builtin', enabled: true, zone: 'z1', dataplanes: 2, trusting: 2, holding: 1, expired: 1 },
    ]);
    expect(
      checkRotation(mesh('ca-2', 'ca-1', 'ca-2'), mesh('ca-2', 'ca-2'), { dataplanes: [states[1] as DataplaneCaState], offlineZones: [] })
        .errors,
    ).toEqual([]);
  });
});
