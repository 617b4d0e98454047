// The vault Mesh examples of seeds 000, 001 and 002, parsed from their verbatim YAML, pass global's
// check (a real test certificate through the backend) against a Vault set up like seed 001.
// Only addresses and secrets are rewritten, plus the 001/000 `auth.tls` block the API refuses
// next to `auth.token` (the seed's own comment says only one is allowed).
import { X509Certificate } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { parseDocuments, type MeshSpec, type MtlsBackend, type VaultConf } from '@meshca/api';
import { parseCertificate } from '@meshca/pki';
import { seedText } from '@meshca/test/fixtures';
import { checkMeshCas } from '../src/index.js';
import { openVaultBackend } from '../src/vault/index.js';
import { contextOf, envOf, seedVault, startVaultServer, storeWithSecrets, type VaultServer } from './vault-setup.js';

const meshOf = (file: string): MeshSpec => parseDocuments(seedText(file))[0]!.spec as MeshSpec;

/** Points the seed's vault backend at the test server; the rest of its config stays as written. */
function pointAt(spec: MeshSpec, v: VaultServer): { spec: MeshSpec; backend: MtlsBackend<VaultConf> } {
  const copy = structuredClone(spec);
  const backend = copy.mtls!.backends[0] as MtlsBackend<VaultConf>;
  backend.conf.fromCp.address = v.address;
  delete (backend.conf.fromCp.auth as { tls?: unknown }).tls;
  return { spec: copy, backend };
}

const servers: VaultServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});
async function server(): Promise<VaultServer> {
  const v = await startVaultServer({ tls: true });
  servers.push(v);
  return v;
}

describe.each([
  { file: '000-vault-universal.yaml', mount: 'kuma-pki-default', role: 'dataplanes', secrets: { ca: 'sec-1', token: 'token-1' } },
  { file: '000-vault-kubernetes.yaml', mount: 'kuma-pki-default', role: 'dataplanes', secrets: { ca: 'sec-1', token: 'token-1' } },
  { file: '001-vault-universal.yaml', mount: 'kmesh-pki-default', role: 'dataplane-proxies', secrets: { ca: 'sec-1', token: 'token-1' } },
  { file: '001-vault-kubernetes.yaml', mount: 'kmesh-pki-default', role: 'dataplane-proxies', secrets: { ca: 'sec-1', token: 'token-1' } },
  { file: '002-vault-universal.yaml', mount: 'kuma-pki-default', role: 'mesh-dp', secrets: { ca: 'vault-ca-cert', token: 'vault-token' } },
])('seed $file', ({ file, mount, role, secrets }) => {
  it('passes checkMeshCas against a Vault set up as in seed 001, with the token of step 4', async () => {
    const v = await server();
    const setup = await seedVault(v, { mount, role });
    const { spec } = pointAt(meshOf(file), v);
    const store = await storeWithSecrets({ [secrets.ca]: v.caCertPem!, [secrets.token]: setup.token });
    expect(await checkMeshCas({ store, mesh: 'default', spec })).toEqual([]);
    // The one path the seed policy grants is the one used.
    expect(v.stats().byPath[`${mount}/issue/${role}`]).toBe(1);
  });
});

describe('certificates issued for the seed 001 mesh', () => {
  it.each([false, true])(
    'verify to the root, carry the SPIFFE and kuma URIs and the commonName (intermediate CA: %s)',
    async (intermediate) => {
      const v = await server();
      const setup = await seedVault(v, { intermediate });
      const { backend } = pointAt(meshOf('001-vault-universal.yaml'), v);
      const store = await storeWithSecrets({ 'sec-1': v.caCertPem!, 'token-1': setup.token });
      const ca = await openVaultBackend(contextOf('default', backend, store), envOf(store));
      try {
        const issued = await ca.issue({
          identity: { mesh: 'default', name: 'web-1', tags: { 'kuma.io/service': ['web'], 'kuma.io/zone': ['zone-1'], version: ['v1'] } },
          ttlSeconds: 24 * 3600,
        });
        const roots = await ca.roots();
        const root = new X509Certificate(setup.rootPem);
        expect(new X509Certificate(roots.at(-1)!).fingerprint256).toBe(root.fingerprint256);
        expect(roots).toHaveLength(intermediate ? 2 : 1);

        const chain = [...issued.certChainPem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map(
          (m) => new X509Certificate(m[0]),
        );
        expect(chain).toHaveLength(intermediate ? 2 : 1); // leaf (+ intermediate), never the root
        const path = [...chain, root];
        for (let i = 0; i + 1 < path.length; i++) expect(path[i]!.verify(path[i + 1]!.publicKey)).toBe(true);

        const leaf = parseCertificate(issued.certChainPem);
        expect(leaf.uriSans.sort()).toEqual([
          'kuma://kuma.io/service/web',
          'kuma://kuma.io/zone/zone-1',
          'kuma://version/v1',
          'spiffe://default/web',
        ]);
        expect(leaf.commonName).toBe('web.mesh');
        expect(leaf.serial).toBe(issued.serial);
        expect(Math.abs(issued.notAfter.getTime() - Date.now() - 24 * 3600_000)).toBeLessThan(120_000);
        // Vault's PKCS#1 RSA key comes back as PKCS#8 and matches the certificate.
        expect(issued.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
        expect(chain[0]!.checkPrivateKey((await import('node:crypto')).createPrivateKey(issued.keyPem!))).toBe(true);
      } finally {
        await ca.close();
      }
    },
  );
});
