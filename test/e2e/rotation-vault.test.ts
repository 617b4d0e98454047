// CA rotation end to end: builtin ca-1 to a vault backend set up as in seed 001 (with an EC role,
// for speed), in the three steps of seed 003, with cross-zone mTLS traffic the whole time. Zones
// issue through their own connection to the Vault-compatible test server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedVault, startVaultServer, type SeedSetup, type VaultServer } from '../../libs/ca/test/vault-setup.js';
import {
  apiRequest,
  bundleHas,
  eventually,
  expectUnchanged,
  fixture,
  getMesh,
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

const ZONES = { 'zone-1': 1, 'zone-2': 1 };

let env: MeshEnv;
let vault: VaultServer;
let setup: SeedSetup;
let services: MeshService[];
let traffic: Traffic | undefined;

/**
 * The Mesh with builtin ca-1 and vault-1 (seed 001's vault backend with one auth method, as its
 * comment requires, pointed at the test server), or with vault-1 alone.
 */
function mesh(enabled: string, backends: { ca1?: boolean; vault: { address?: string; role?: string } }): string {
  const vars = { enabled, address: backends.vault.address ?? vault.address, role: backends.vault.role ?? 'dataplane-proxies' };
  return fixture(backends.ca1 ? 'mesh-builtin-ca-1-and-vault-1.yaml' : 'mesh-vault-1.yaml', vars);
}

const apply = (yaml: string, ...flags: string[]) => env.meshctlInput(yaml, 'apply', '-f', '-', ...flags);

beforeAll(async () => {
  vault = await startVaultServer({ tls: true });
  setup = await seedVault(vault, { roleArgs: { key_type: 'ec', key_bits: '256' } });
  env = await startMeshEnv();
  const started = await env.meshctl('apply', '-f', seedFile('003-start-universal.yaml'));
  expect(started.code, started.stderr).toBe(0);
  const secrets = await apply(secretYaml('sec-1', vault.caCertPem!) + '---\n' + secretYaml('token-1', setup.token));
  expect(secrets.code, secrets.stderr).toBe(0);
  services = await Promise.all([
    env.startService('zone-1', { name: 'web-1', service: 'web' }),
    env.startService('zone-2', { name: 'backend-1', service: 'backend' }),
  ]);
}, 60_000);

afterAll(async () => {
  await traffic?.stop();
  await env?.stop();
  await vault?.stop();
});

describe('builtin to vault in three steps', () => {
  it('refuses the switch until both zones trust vault-1, the removal until none holds ca-1, and no request fails', async () => {
    const [web, backend] = services as [MeshService, MeshService];
    traffic = startTraffic(serviceRoutes(web, backend));
    await waitForRotation(env, { backend: 'ca-1', trusting: 'all', holding: 'all' }, ZONES);

    const start = await getMesh(env);
    const early = await apply(mesh('vault-1', { ca1: true, vault: {} }));
    expect(early.code).not.toBe(0);
    expect(early.stderr).toContain(
      'cannot switch to "vault-1" yet: 2 dataplanes do not trust backend "vault-1" yet (zone "zone-1": 1 (zone-1.web-1), zone "zone-2": 1 (zone-2.backend-1))',
    );
    await expectUnchanged(env, start);

    const added = await apply(mesh('ca-1', { ca1: true, vault: {} }));
    expect(added.code, added.stderr).toBe(0);
    await waitForRotation(env, { backend: 'vault-1', trusting: 'all', holding: 'none' }, ZONES);
    for (const s of services) expect(bundleHas(s.handle.current()!.bundlePem, setup.rootPem)).toBe(true);

    const afterAdd = await getMesh(env);
    const removeEarly = await apply(mesh('vault-1', { vault: {} }));
    expect(removeEarly.code).not.toBe(0);
    expect(removeEarly.stderr).toContain(
      'cannot remove backend "ca-1" yet: 2 dataplanes still hold certificates it issued (zone "zone-1": 1 (zone-1.web-1), zone "zone-2": 1 (zone-2.backend-1))',
    );
    await expectUnchanged(env, afterAdd);

    const switched = await apply(mesh('vault-1', { ca1: true, vault: {} }));
    expect(switched.code, switched.stderr).toBe(0);
    await waitForRotation(env, { backend: 'vault-1', trusting: 'all', holding: 'all' }, ZONES);
    for (const s of services) {
      const id = s.handle.current()!;
      expect(id.backend).toBe('vault-1');
      expect(issuedBy(id.certChainPem, setup.rootPem)).toBe(true);
    }
    await traffic.more(2);

    const removed = await apply(mesh('vault-1', { vault: {} }));
    expect(removed.code, removed.stderr).toBe(0);
    // ca-1's key went with it: no longer on global, nor in either zone's store.
    for (const cp of [
      env.global,
      ...Object.values(env.zones).map((z) => ({ apiUrl: z.apiUrl, caFile: z.caFile, tokenFile: z.adminTokenFile })),
    ]) {
      await eventually(async () =>
        expect((await apiRequest(cp, 'GET', '/meshes/default/secrets/default.ca-builtin-key-ca-1')).status).toBe(404),
      );
    }
    await eventually(() => expect(services.every((s) => s.handle.current()!.bundleBackends.join() === 'vault-1')).toBe(true), 10_000);
    await traffic.more(3);
    await traffic.stop();
    expect(traffic.failures).toEqual([]);
    expect(Object.values(traffic.okByRoute).every((ok) => ok > 5)).toBe(true);
    // Each zone issued through its own connection to Vault, with the role of the seed.
    expect(vault.stats().byPath['kmesh-pki-default/issue/dataplane-proxies']).toBeGreaterThanOrEqual(3);
  }, 60_000);
});

describe('a vault backend changed in place', () => {
  it('is validated by a test certificate like a new backend: a bad address or role is refused and nothing changes', async () => {
    const before = await getMesh(env);
    const unreachable = await apply(mesh('vault-1', { vault: { address: 'https://127.0.0.1:1' } }));
    expect(unreachable.code).not.toBe(0);
    expect(unreachable.stderr).toContain(
      'mtls.backends[0]: vault backend "vault-1" could not issue a test certificate: cannot reach Vault at https://127.0.0.1:1',
    );
    await expectUnchanged(env, before);

    const noRole = await apply(mesh('vault-1', { vault: { role: 'no-such-role' } }));
    expect(noRole.code).not.toBe(0);
    expect(noRole.stderr).toContain('mtls.backends[0]: vault backend "vault-1" could not issue a test certificate');
    expect(noRole.stderr).toContain('permission denied');
    await expectUnchanged(env, before);

    // The dataplanes keep their vault certificates and traffic still flows.
    const [web, backend] = services as [MeshService, MeshService];
    expect(await web.call(backend)).toBe('backend@zone-2');
    expect(web.handle.current()?.backend).toBe('vault-1');
  });
});
