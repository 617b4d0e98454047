// End to end with the vault backend: a Vault-compatible test server set up with the `vault` commands
// of seed 001, the vault Mesh examples of seeds 000, 001 and 002 applied through meshctl on a real
// global (only the address, the secrets and the file path pointed at the test server; of the two
// auth methods that 000/001 set together, one removed), dataplanes in two zones with Vault-issued
// certificates talking mTLS across zones, and a Vault outage during rotation.
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { createLocalIssuer, generateCa, parseCertificate } from '@meshca/pki';
import {
  applySecrets as applySecretsVia,
  applyYaml,
  certsOf,
  eventually,
  expectCrossZone,
  expectOutageKeepsCertificates,
  expectSignedPath,
  metricsUrlOf,
  retireServices,
  seedText,
  startMeshEnv,
  startPair,
  type MeshEnv,
  type MeshService,
} from '../src/index.js';
import { SEED_ROLE, ok, seedVault, startVaultServer, vaultCall, type SeedSetup, type VaultServer } from '../../libs/ca/test/vault-setup.js';

/** EC keys keep Vault-side key generation fast; everything else is the role of seed 001. */
const EC = { key_type: 'ec', key_bits: '256' };

let vault: VaultServer;
let env: MeshEnv;
let dir: string;
/** Seed 001's setup replayed once per mount/role the seeds name. */
let s000: SeedSetup; // kuma-pki-default / dataplanes (000 sets neither pki nor role: the defaults)
let s001: SeedSetup; // kmesh-pki-default / dataplane-proxies, intermediate CA variant
let s002: SeedSetup; // kuma-pki-default / mesh-dp

/** A role, policy and token on a mount seedVault already made (seed 001 steps 2-4). */
async function addRole(v: VaultServer, mount: string, role: string, rootPem: string): Promise<SeedSetup> {
  await ok(vaultCall(v, 'POST', `${mount}/roles/${role}`, { ...SEED_ROLE, ...EC }));
  const policy = `kmesh-${mount}-${role}`;
  await ok(
    vaultCall(v, 'POST', `sys/policies/acl/${policy}`, {
      policy: `path "/${mount}/issue/${role}"\n{\n  capabilities = ["create", "update"]\n}\n`,
    }),
  );
  const created = await ok(vaultCall(v, 'POST', 'auth/token/create', { policies: [policy], renewable: true }));
  return { mount, role, rootPem, token: String(created.json.auth?.client_token), policy };
}

/** The text of the first zone's /metrics. */
/** Every zone's /metrics, one after the other. */
async function zoneMetrics(): Promise<string> {
  const texts = await Promise.all(Object.values(env.zones).map(async (zone) => (await fetch(metricsUrlOf(zone))).text()));
  return texts.join('\n');
}

/** The sum of what the first group of `re` (with the g and m flags) captures in `text`, or undefined when nothing matches. */
function metric(text: string, re: RegExp): number | undefined {
  const values = [...text.matchAll(re)].map((m) => Number(m[1]));
  return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0);
}

/** A seed file's text with edits made through the YAML document, so its comments and layout stay. */
function seed(
  file: string,
  edit: (set: (path: (string | number)[], value: unknown) => void, del: (path: (string | number)[]) => void) => void,
): string {
  const doc = parseDocument(seedText(file));
  const base = doc.has('spec') ? ['spec', 'mtls', 'backends', 0, 'conf', 'fromCp'] : ['mtls', 'backends', 0, 'conf', 'fromCp'];
  edit(
    (p, v) => doc.setIn([...base, ...p], v),
    (p) => doc.deleteIn([...base, ...p]),
  );
  return String(doc);
}

const applySecrets = (secrets: Record<string, string>) => applySecretsVia(env, secrets);
const apply = (yaml: string) => applyYaml(env, yaml);

/** The chain the dataplane holds leads, signature by signature, to this root, and never contains it. */
function expectChainTo(chainPem: string, rootPem: string, length: number): void {
  const root = new X509Certificate(rootPem);
  const chain = certsOf(chainPem);
  expect(chain).toHaveLength(length);
  expect(chain.some((c) => c.fingerprint256 === root.fingerprint256)).toBe(false);
  const path = [...chain, root];
  expectSignedPath(path);
}

const pair = (suffix: string) => startPair(env, suffix);
const crossZone = expectCrossZone;
const retire = (...services: MeshService[]) => retireServices(env, ...services);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshca-e2e-vault-'));
  vault = await startVaultServer({ tls: true });
  s000 = await seedVault(vault, { mount: 'kuma-pki-default', role: 'dataplanes', roleArgs: EC });
  s001 = await seedVault(vault, { intermediate: true, roleArgs: EC });
  s002 = await addRole(vault, 'kuma-pki-default', 'mesh-dp', s000.rootPem);
  env = await startMeshEnv();
  // Secrets live in a mesh: the Mesh exists (without mTLS) before the secrets its backend names.
  await apply('type: Mesh\nname: default\n');
}, 60_000);

afterAll(async () => {
  await env?.stop();
  await vault?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('vault backend across two zones', () => {
  it("refuses the seed 000 Mesh while Vault denies its token, naming the backend and Vault's answer; nothing is stored", async () => {
    await applySecrets({ 'sec-1': vault.caCertPem!, 'token-1': 'hvs.not-a-token-vault-knows' });
    const yaml = seed('000-vault-universal.yaml', (set, del) => {
      set(['address'], vault.address);
      del(['auth', 'tls']);
    });
    const r = await env.meshctlInput(yaml, 'apply', '-f', '-');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('vault backend "vault-1" could not issue a test certificate');
    expect(r.stderr).toContain('permission denied');
    expect(r.stderr).not.toContain('hvs.not-a-token-vault-knows');
    const mesh = JSON.parse((await env.meshctl('get', 'mesh', 'default', '-o', 'json')).stdout) as { mtls?: unknown };
    expect(mesh.mtls).toBeUndefined();
  });

  it('seed 000 (token auth): dataplanes in both zones get certificates from kuma-pki-default and talk mTLS', async () => {
    await applySecrets({ 'token-1': s000.token });
    for (const file of ['000-vault-universal.yaml', '000-vault-kubernetes.yaml']) {
      await apply(
        seed(file, (set, del) => {
          set(['address'], vault.address);
          del(['auth', 'tls']);
        }),
      );
    }
    const [web, backend] = await pair('000');
    for (const svc of [web, backend]) {
      const id = svc.handle.current()!;
      expect(id.backend).toBe('vault-1');
      expectChainTo(id.certChainPem, s000.rootPem, 1);
      expect(parseCertificate(id.certChainPem).uriSans).toContain(svc.spiffeId);
    }
    await crossZone(web, backend);
    // Issued through the default mount and role of 000, by the zones (the test certificate is global's one).
    expect(vault.stats().byPath['kuma-pki-default/issue/dataplanes']).toBeGreaterThanOrEqual(3);
    // The zone's metrics: issuances through vault-1 timed, and the token's TTL counting down.
    const text = await zoneMetrics();
    expect(
      metric(text, /^ca_manager_get_cert_seconds_count\{mesh="[^"]+",backend="vault-1",type="vault"\} (\d+)$/gm),
    ).toBeGreaterThanOrEqual(1);
    // Each zone's own token: every one counts down from more than an hour.
    const ttls = [...text.matchAll(/^meshca_vault_token_ttl_seconds\{mesh="[^"]+",backend="vault-1",type="vault"\} ([\d.]+)$/gm)].map((m) =>
      Number(m[1]),
    );
    expect(ttls.length).toBeGreaterThan(0);
    for (const ttl of ttls) expect(ttl).toBeGreaterThan(3600);
    await retire(web, backend);
  });

  it('seed 001 (TLS certificate auth, intermediate CA): each zone logs in itself; chains go through the intermediate', async () => {
    const clientCa = generateCa({ commonName: 'meshca control planes', keyType: 'ecdsa-p256', validitySeconds: 3600 });
    const issuer = createLocalIssuer({ caCertPem: clientCa.certPem, caKeyPem: clientCa.keyPem });
    const client = await issuer.issue({
      uriSans: [],
      commonName: 'meshca',
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 3600_000),
    });
    await issuer.close();
    await ok(vaultCall(vault, 'POST', 'sys/auth/cert', { type: 'cert' }));
    await ok(vaultCall(vault, 'POST', 'auth/cert/certs/meshca', { certificate: clientCa.certPem, token_policies: s001.policy }));
    const certFile = join(dir, 'cert.pem');
    await writeFile(certFile, client.certPem);
    await applySecrets({ 'sec-2': client.keyPem! });
    const logins = vault.stats().byPath['auth/cert/login'] ?? 0;
    for (const file of ['001-vault-universal.yaml', '001-vault-kubernetes.yaml']) {
      await apply(
        seed(file, (set, del) => {
          set(['address'], vault.address);
          set(['auth', 'tls', 'clientCert', 'file'], certFile);
          del(['auth', 'token']);
        }),
      );
    }
    const [web, backend] = await pair('001');
    for (const svc of [web, backend]) {
      const id = svc.handle.current()!;
      expect(id.backend).toBe('vault-1');
      expectChainTo(id.certChainPem, s001.rootPem, 2);
      const leaf = parseCertificate(id.certChainPem);
      expect(leaf.uriSans).toContain(svc.spiffeId);
      expect(leaf.commonName).toBe(`${svc.service}.mesh`);
    }
    await crossZone(web, backend);
    // Global's validation and each zone's own connection: three logins at least.
    expect((vault.stats().byPath['auth/cert/login'] ?? 0) - logins).toBeGreaterThanOrEqual(3);
    await retire(web, backend);
  });

  it('seed 002 (vault-ca, role mesh-dp, meshServices Exclusive): switched to, issued from, mTLS across zones', async () => {
    await applySecrets({ 'vault-token': s002.token, 'vault-ca-cert': vault.caCertPem! });
    for (const file of ['002-vault-universal.yaml', '002-vault-kubernetes.yaml']) {
      await apply(seed(file, (set) => set(['address'], vault.address)));
    }
    const [web, backend] = await pair('002');
    for (const svc of [web, backend]) {
      const id = svc.handle.current()!;
      expect(id.backend).toBe('vault-ca');
      expectChainTo(id.certChainPem, s002.rootPem, 1);
    }
    await crossZone(web, backend);
    expect(vault.stats().byPath['kuma-pki-default/issue/mesh-dp']).toBeGreaterThanOrEqual(3);
    await retire(web, backend);
  });

  it('a sealed Vault during rotation takes no valid certificate away; the failure shows on global; unsealed, certificates are issued again', async () => {
    // Seed 000 again (vault-1, its token) with a 30s dpCert lifetime, the role's max_ttl staying 720h,
    // so renewal falls inside the outage. Switching away from vault-ca makes the zones re-issue any
    // certificate they issued before the new Mesh reached them, so both end up on the 30s lifetime.
    await apply(
      seed('000-vault-universal.yaml', (set, del) => {
        set(['address'], vault.address);
        del(['auth', 'tls']);
      }).replace('expiration: 24h', 'expiration: 30s'),
    );
    const [web, backend] = await pair('outage');
    await eventually(async () => {
      for (const svc of [web, backend]) {
        const id = svc.handle.current()!;
        expect(id.backend).toBe('vault-1');
        expect(id.notAfter.getTime() - Date.now()).toBeLessThan(31_000);
      }
    }, 15_000);
    await expectOutageKeepsCertificates(env, web, backend, {
      breakCa: () => vault.seal(),
      repairCa: () => vault.unseal(),
      errorText: 'sealed',
      reissued: (svc) => expectChainTo(svc.handle.current()!.certChainPem, s000.rootPem, 1),
    });
    // The outage in the zones' metrics: failed attempts at vault-1, worth retrying (503 sealed), in
    // whichever zone had a renewal due while Vault was sealed.
    const text = await zoneMetrics();
    expect(metric(text, /^cert_generation_failure_total\{mesh="[^"]+",backend="vault-1",reason="ca_error"\} (\d+)$/gm)).toBeGreaterThan(0);
  }, 90_000);
});
