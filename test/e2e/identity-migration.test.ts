// The migration path of the external-CA page, end to end: two zones, a Mesh on builtin Mesh.mtls,
// cross-zone calls in every direction the whole time, then the four steps (MeshIdentity for a
// subset, MeshTrust, MeshTLS, rotate everything) and finally Mesh.mtls off — with zero failed calls,
// and the steps taken too soon refused with the zones and dataplanes that would break.
import { X509Certificate } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateChainFromPem } from '@meshca/pki';
import { eventually, serviceRoutes, startMeshEnv, startTraffic, type MeshEnv, type MeshService, type Traffic } from '../src/index.js';

let env: MeshEnv;
let services: MeshService[] = [];
let traffic: Traffic;
/** A dataplane token made while global is up, for a dataplane that starts while it is away. */
let tokenForLater: string;

/** Mesh.mtls IDs and the per-zone trust domains, as an operator's MeshTrafficPermission would allow both. */
const allow = (id: string) => id.startsWith('spiffe://default/') || /^spiffe:\/\/default\.(east|west)\.mesh\.local\//.test(id);

const spiffeOf = (s: MeshService) => {
  const id = s.handle.current();
  return id
    ? new X509Certificate(certificateChainFromPem(id.certChainPem)[0] as string).subjectAltName
        ?.split(', ')
        .find((x) => x.startsWith('URI:spiffe://'))
    : undefined;
};

const identity = (matchLabels: Record<string, string>) => ({
  type: 'MeshIdentity',
  mesh: 'default',
  name: 'workloads',
  spec: {
    selector: { dataplane: { matchLabels } },
    spiffeID: { trustDomain: '{{ .Mesh }}.{{ .Zone }}.mesh.local', path: '/workload/{{ .Workload }}' },
    provider: {
      type: 'Bundled',
      bundled: { meshTrustCreation: 'Enabled', insecureAllowSelfSigned: true, autogenerate: { enabled: true } },
    },
  },
});

beforeAll(async () => {
  env = await startMeshEnv({ zones: ['east', 'west'] });
  await env.admin.call('PUT', '/meshes/default', {
    type: 'Mesh',
    name: 'default',
    mtls: { enabledBackend: 'ca-1', backends: [{ name: 'ca-1', type: 'builtin' }] },
  });
  for (const zone of ['east', 'west']) {
    for (const app of ['web', 'api']) {
      const name = `${app}-${zone}`;
      const token = await env.dataplaneToken({ mesh: 'default', name, tags: { 'kuma.io/service': app }, workload: name });
      services.push(await env.startService(zone, { name, service: app, token, labels: { app }, allow }));
    }
  }
  await Promise.all(services.map((s) => s.handle.ready()));
  tokenForLater = await env.dataplaneToken({
    mesh: 'default',
    name: 'late-east',
    tags: { 'kuma.io/service': 'late' },
    workload: 'late-east',
  });
  traffic = startTraffic(serviceRoutes(...services), { pauseMs: 20 });
  await traffic.more(3);
  // Global knows every dataplane before the migration starts (what an operator sees in meshctl inspect mesh).
  await eventually(async () => {
    const { body } = await env.admin.call<{ dataplanes: { online: number } }>('GET', '/mesh-insights/default');
    expect(body.dataplanes.online).toBe(4);
  });
}, 120_000);

afterAll(async () => {
  await traffic?.stop();
  await env?.stop();
});

describe('migration from Mesh.mtls to MeshIdentity (the external-CA page, section 4)', () => {
  it('1. Assign identity: nothing moves while zone west is away (its dataplanes could not trust the new CA)', async () => {
    await env.zones.west!.stop();
    await env.admin.call('PUT', '/meshes/default/meshidentities/workloads', identity({ app: 'web' }));
    await eventually(async () => {
      const { body } = await env.admin.call<{ mTLS: { pending?: string } }>('GET', '/meshes/default/dataplane-insights/east.web-east');
      expect(body.mTLS.pending).toMatch(
        /^moving to MeshIdentity "workloads" once every dataplane in every zone trusts its CA \(zone "west" is offline/,
      );
    }, 20_000);
    // Longer than the zone's rotation spread (10s): had it moved, west's dataplanes would refuse it.
    await sleep(12_000);
    expect(spiffeOf(services.find((s) => s.name === 'web-east')!)).toBe('URI:spiffe://default/web');
    expect(traffic.failures).toEqual([]);
  }, 60_000);

  it("1. Assign identity: once west is back, the web services move to their zones' CAs", async () => {
    await env.restartZone('west');
    // West's dataplanes reconnect to its new process: until they had time to report what they
    // trust, global counts none of its CAs as trusted everywhere (a zone with no report is not a
    // zone where nobody can break).
    await eventually(async () => {
      const { body } = await env.admin.call<{ mTLS: { pending?: string } }>('GET', '/meshes/default/dataplane-insights/east.web-east');
      expect(body.mTLS.pending).toMatch(/zone "west" connected \d+s ago: waiting for its dataplanes to reconnect/);
    }, 20_000);
    await eventually(() => {
      expect(spiffeOf(services.find((s) => s.name === 'web-east')!)).toBe('URI:spiffe://default.east.mesh.local/workload/web-east');
      expect(spiffeOf(services.find((s) => s.name === 'web-west')!)).toBe('URI:spiffe://default.west.mesh.local/workload/web-west');
    }, 60_000);
    // The others stay on Mesh.mtls.
    expect(spiffeOf(services.find((s) => s.name === 'api-east')!)).toBe('URI:spiffe://default/api');
    await traffic.more(5);
    expect(traffic.failures).toEqual([]);
  }, 90_000);

  it('2. Add trusted CA: each zone published a MeshTrust, and every dataplane trusts both', async () => {
    const { body } = await env.admin.call<{ items: { name: string; labels: Record<string, string>; spec: { trustDomain: string } }[] }>(
      'GET',
      '/meshes/default/meshtrusts',
    );
    expect(body.items.map((t) => [t.name, t.labels['kuma.io/zone'], t.spec.trustDomain]).sort()).toEqual([
      ['east.workloads', 'east', 'default.east.mesh.local'],
      ['west.workloads', 'west', 'default.west.mesh.local'],
    ]);
    for (const s of services) {
      expect(s.handle.current()?.bundleBackends).toEqual(
        expect.arrayContaining(['ca-1', 'kri_mtrust_default_east__workloads_', 'kri_mtrust_default_west__workloads_']),
      );
    }
    // Turning Mesh.mtls off now is too soon: the api services still hold its certificates (once
    // global has heard from both zones that the web services moved).
    await eventually(async () => {
      const res = await env.meshctlInput('type: Mesh\nname: default\n', 'apply', '-f', '-');
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(
        'cannot remove backend "ca-1" yet (a Mesh without mtls removes every backend): 2 dataplanes still hold certificates it issued (zone "east": 1 (east.api-east), zone "west": 1 (west.api-west))',
      );
    });
    await eventually(async () => {
      const inspect = await env.meshctl('inspect', 'mesh', 'default');
      expect(inspect.stdout).toMatch(/workloads\s+east\s+default\.east\.mesh\.local\s+True\s+1/);
      expect(inspect.stdout).toMatch(/east\.workloads\s+east\s+default\.east\.mesh\.local\s+1\s+4\/4/);
    });
  });

  it('3. Enforce TLS: a MeshTLS policy reaches every dataplane', async () => {
    const res = await env.meshctlInput(
      'type: MeshTLS\nname: strict\nmesh: default\nspec:\n  targetRef:\n    kind: Mesh\n  rules:\n    - default:\n        mode: Strict\n',
      'apply',
      '-f',
      '-',
    );
    expect(res.code, res.stderr).toBe(0);
    await eventually(() => {
      for (const s of services) expect(s.handle.tls()).toEqual({ mode: 'Strict', policies: ['strict'] });
    });
    await traffic.more(5);
    expect(traffic.failures).toEqual([]);
  });

  it("4. Rotate: every dataplane moves to its zone's identity; then Mesh.mtls goes, with no failed call", async () => {
    await env.admin.call('PUT', '/meshes/default/meshidentities/workloads', identity({}));
    await eventually(() => {
      for (const s of services) expect(spiffeOf(s)).toBe(`URI:spiffe://default.${s.zone}.mesh.local/workload/${s.name}`);
    }, 60_000);
    await traffic.more(5);
    // Now nobody holds a Mesh.mtls certificate: turning it off is accepted.
    await eventually(async () => {
      const res = await env.meshctlInput('type: Mesh\nname: default\n', 'apply', '-f', '-');
      expect(res.code, res.stderr).toBe(0);
    }, 20_000);
    await eventually(() => {
      for (const s of services) {
        expect([...(s.handle.current()?.bundleBackends ?? [])].sort()).toEqual([
          'kri_mtrust_default_east__workloads_',
          'kri_mtrust_default_west__workloads_',
        ]);
      }
    });
    await traffic.more(10);
    expect(traffic.failures).toEqual([]);
    expect(traffic.ok).toBeGreaterThan(100);
  }, 120_000);

  it('a zone keeps issuing from its identity while global is away', async () => {
    await env.global.stop();
    const token = await Promise.resolve(tokenForLater);
    const late = await env.startService('east', { name: 'late-east', service: 'late', token, labels: { app: 'late' }, allow });
    services.push(late);
    await late.handle.ready(20_000);
    expect(spiffeOf(late)).toBe('URI:spiffe://default.east.mesh.local/workload/late-east');
    // Its peers in the other zone trust it already: the zone's CA was published before global left.
    const west = services.find((s) => s.name === 'api-west')!;
    expect(await late.call(west)).toBe('api@west');
    expect(await west.call(late)).toBe('late@east');
  }, 60_000);
});
