// CA rotation end to end (seed 003): builtin ca-1 to provided ca-2 in the page's three applies,
// through meshctl, with services in two zones calling each other over real mTLS the whole time.
// Each step taken too soon is refused with its reason and changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCa, type CaMaterial } from '@meshca/pki';
import {
  bundleHas,
  eventually,
  expectUnchanged,
  fixture,
  getMesh,
  inspectMesh,
  issuedBy,
  secretYaml,
  seedFile,
  serviceRoutes,
  startMeshEnv,
  startTraffic,
  waitForRotation,
  type MeshEnv,
  type MeshService,
  type Traffic,
} from '../src/index.js';

const ZONES = { 'zone-1': 2, 'zone-2': 2 };

let env: MeshEnv;
let services: MeshService[];
let ca1Pem: string;
let ca2: CaMaterial;
let traffic: Traffic | undefined;

beforeAll(async () => {
  env = await startMeshEnv();
  const applied = await env.meshctl('apply', '-f', seedFile('003-start-universal.yaml'));
  expect(applied.code, applied.stderr).toBe(0);
  services = await Promise.all([
    env.startService('zone-1', { name: 'web-1', service: 'web' }),
    env.startService('zone-1', { name: 'web-2', service: 'web' }),
    env.startService('zone-2', { name: 'backend-1', service: 'backend' }),
    env.startService('zone-2', { name: 'backend-2', service: 'backend' }),
  ]);
  ca1Pem = (await services[0]!.handle.ready()).bundlePem;
  ca2 = generateCa({ commonName: 'ca-2', keyType: 'ecdsa-p256', validitySeconds: 3600 * 24 });
  // The page's secrets, created before the Mesh that names them.
  const secrets = await env.meshctlInput(
    secretYaml('ca-2-cert', ca2.certPem) + '---\n' + secretYaml('ca-2-key', ca2.keyPem),
    'apply',
    '-f',
    '-',
  );
  expect(secrets.code, secrets.stderr).toBe(0);
}, 60_000);

afterAll(async () => {
  await traffic?.stop();
  await env?.stop();
});

const apply = (seed: string, ...flags: string[]) => env.meshctl('apply', '-f', seedFile(seed), ...flags);

describe('seed 003: builtin ca-1 to provided ca-2 in three steps', () => {
  it('refuses each step taken too soon, allows it once the zones report it safe, and no request fails', async () => {
    const [web1, web2, backend1, backend2] = services as [MeshService, MeshService, MeshService, MeshService];
    traffic = startTraffic([...serviceRoutes(web1, backend1), ...serviceRoutes(web2, backend2)]);
    await waitForRotation(env, { backend: 'ca-1', trusting: 'all', holding: 'all' }, ZONES);
    await traffic.more(2);

    // Switching before the backend was added: no dataplane trusts ca-2.
    const before = await getMesh(env);
    const early2 = await apply('003-step2-universal.yaml');
    expect(early2.code).not.toBe(0);
    expect(early2.stderr).toContain(
      'cannot switch to "ca-2" yet: 4 dataplanes do not trust backend "ca-2" yet (zone "zone-1": 2 (zone-1.web-1, zone-1.web-2), zone "zone-2": 2 (zone-2.backend-1, zone-2.backend-2))',
    );
    await expectUnchanged(env, before);

    // Step 1: add ca-2. Every dataplane gets a bundle with both CAs; certificates stay from ca-1.
    const step1 = await apply('003-step1-universal.yaml');
    expect(step1.code, step1.stderr).toBe(0);
    const afterAdd = await waitForRotation(env, { backend: 'ca-2', trusting: 'all', holding: 'none' }, ZONES);
    expect(afterAdd.filter((r) => r.backend === 'ca-1').map((r) => [r.zone, r.trusting, r.holding])).toEqual([
      ['zone-1', 2, 2],
      ['zone-2', 2, 2],
    ]);
    const table = await env.meshctl('inspect', 'mesh', 'default');
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain('enabledBackend ca-1');
    expect(table.stdout).toMatch(/ca-1\s+builtin\s+yes\s+zone-1\s+2\s+2\s+2/);
    expect(table.stdout).toMatch(/ca-2\s+provided\s+zone-2\s+2\s+2\s+0/);
    for (const s of services) {
      const id = s.handle.current()!;
      expect(id.backend).toBe('ca-1');
      expect(bundleHas(id.bundlePem, ca2.certPem) && bundleHas(id.bundlePem, ca1Pem)).toBe(true);
    }

    // Removing ca-1 before the switch: every dataplane still holds a ca-1 certificate.
    const mid = await getMesh(env);
    const early3 = await apply('003-step3-universal.yaml');
    expect(early3.code).not.toBe(0);
    expect(early3.stderr).toContain(
      'cannot remove backend "ca-1" yet: 4 dataplanes still hold certificates it issued (zone "zone-1": 2 (zone-1.web-1, zone-1.web-2), zone "zone-2": 2 (zone-2.backend-1, zone-2.backend-2))',
    );
    await expectUnchanged(env, mid);

    // Step 2: switch. Re-issues are spread over the zone's window, so removing ca-1 right away is refused.
    const step2 = await apply('003-step2-universal.yaml');
    expect(step2.code, step2.stderr).toBe(0);
    const switched = await getMesh(env);
    const tooSoon = await apply('003-step3-universal.yaml');
    expect(tooSoon.code).not.toBe(0);
    expect(tooSoon.stderr).toMatch(
      /cannot remove backend "ca-1" yet: (1 dataplane still holds a certificate|\d dataplanes still hold certificates) it issued \(zone "zone-/,
    );
    await expectUnchanged(env, switched);

    await waitForRotation(env, { backend: 'ca-2', trusting: 'all', holding: 'all' }, ZONES);
    for (const s of services) expect(issuedBy(s.handle.current()!.certChainPem, ca2.certPem)).toBe(true);
    await traffic.more(2);

    // Step 3: remove ca-1. Bundles lose ca-1; certificates stay from ca-2.
    const step3 = await apply('003-step3-universal.yaml');
    expect(step3.code, step3.stderr).toBe(0);
    const final = await waitForRotation(env, { backend: 'ca-2', trusting: 'all', holding: 'all' }, ZONES);
    expect(final.map((r) => r.backend)).not.toContain('ca-1');
    await eventually(() => expect(services.every((s) => !bundleHas(s.handle.current()!.bundlePem, ca1Pem))).toBe(true), 10_000);
    for (const s of services) {
      const id = s.handle.current()!;
      expect(id.backend).toBe('ca-2');
      expect(id.bundleBackends).toEqual(['ca-2']);
      expect(issuedBy(id.certChainPem, ca2.certPem)).toBe(true);
      expect(bundleHas(id.bundlePem, ca2.certPem)).toBe(true);
    }
    await traffic.more(3);
    await traffic.stop();
    expect(traffic.failures).toEqual([]);
    expect(Object.values(traffic.okByRoute).every((ok) => ok > 10)).toBe(true);
    expect((await inspectMesh(env)).enabledBackend).toBe('ca-2');
  }, 60_000);
});

describe('a backend changed in place is checked like a new one', () => {
  it('refuses provided ca-2 pointed at a certificate its key does not match, or at a missing secret, and changes nothing', async () => {
    const ca3 = generateCa({ commonName: 'ca-3', keyType: 'ecdsa-p256', validitySeconds: 3600 });
    const made = await env.meshctlInput(secretYaml('ca-3-cert', ca3.certPem), 'apply', '-f', '-');
    expect(made.code, made.stderr).toBe(0);
    const before = await getMesh(env);
    const mesh = (certSecret: string) => fixture('mesh-provided-ca-2.yaml', { certSecret });

    const mismatched = await env.meshctlInput(mesh('ca-3-cert'), 'apply', '-f', '-');
    expect(mismatched.code).not.toBe(0);
    expect(mismatched.stderr).toContain('mtls.backends[0].conf.key: the key of provided backend "ca-2" does not match its certificate');
    await expectUnchanged(env, before);

    const missing = await env.meshctlInput(mesh('ca-9-cert'), 'apply', '-f', '-');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('secret "ca-9-cert" does not exist in mesh "default"');
    await expectUnchanged(env, before);
  });
});

describe('an offline zone', () => {
  it('is named in a refused switch; --force-rotation skips the check and global logs it; traffic keeps flowing', async () => {
    const [web1, , backend1] = services as [MeshService, MeshService, MeshService, MeshService];
    const ca3 = (enabled: string) => fixture('mesh-provided-ca-2-and-builtin-ca-3.yaml', { enabled });
    const added = await env.meshctlInput(ca3('ca-2'), 'apply', '-f', '-');
    expect(added.code, added.stderr).toBe(0);
    await waitForRotation(env, { backend: 'ca-3', trusting: 'all' }, ZONES);
    traffic = startTraffic(serviceRoutes(web1, backend1));
    await traffic.more(2);

    // A crash: SIGTERM would wait for the zone's dataplane sockets to drain (see the report).
    await env.zones['zone-2']!.stop('SIGKILL');
    await eventually(
      async () => expect((await env.admin.call<{ status: { online: boolean } }>('GET', '/zones/zone-2')).body.status.online).toBe(false),
      10_000,
    );

    const before = await getMesh(env);
    const refused = await env.meshctlInput(ca3('ca-3'), 'apply', '-f', '-');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('cannot switch to "ca-3" yet: zone "zone-2" is offline, so what its dataplanes trust is unknown');
    await expectUnchanged(env, before);

    const forced = await env.meshctlInput(ca3('ca-3'), 'apply', '-f', '-', '--force-rotation');
    expect(forced.code, forced.stderr).toBe(0);
    expect((await getMesh(env)).mtls).toMatchObject({ enabledBackend: 'ca-3' });
    const logged = env.global.logs.find((l) => l.msg === 'rotation validators overridden (force rotation)');
    expect(logged).toMatchObject({ mesh: 'default', step: 'switch', skipped: [expect.stringContaining('zone "zone-2" is offline')] });

    // zone-1 re-issues from ca-3, which zone-2's dataplanes already trust; zone-2's keep their ca-2 certificates.
    await eventually(() => expect(web1.handle.current()?.backend).toBe('ca-3'), 15_000);
    expect(backend1.handle.current()?.backend).toBe('ca-2');
    await traffic.more(3);
    await traffic.stop();
    expect(traffic.failures).toEqual([]);

    // The Mesh label does the same for one apply, and is not stored (a later edit of the stored Mesh is checked again).
    const removed = await env.meshctlInput(fixture('mesh-builtin-ca-3-force-rotation.yaml'), 'apply', '-f', '-');
    expect(removed.code, removed.stderr).toBe(0);
    const stored = await getMesh(env);
    expect(stored.mtls).toEqual({ enabledBackend: 'ca-3', backends: [{ name: 'ca-3', type: 'builtin' }] });
    expect(stored.labels ?? {}).not.toHaveProperty('meshca.io/force-rotation');
    const overrides = env.global.logs.filter((l) => l.msg === 'rotation validators overridden (force rotation)');
    expect(overrides.at(-1)).toMatchObject({ step: 'remove', skipped: [expect.stringContaining('cannot remove backend "ca-2" yet')] });
  }, 40_000);
});
