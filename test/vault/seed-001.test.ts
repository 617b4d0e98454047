import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodeVault from 'node-vault';
import { type Target, call, ok, openTarget } from './harness.js';

// The `vault` commands of shared/seeds/001_*.txt, replayed as the HTTP calls the CLI makes.
// Bodies carry strings exactly as `key=value` arguments do on the command line.

const POLICY_HCL = `path "/kmesh-pki-default/issue/dataplane-proxies"
{
  capabilities = ["create", "update"]
}
`;

const ROLE_ARGS = {
  allowed_uri_sans: 'spiffe://default/*,kuma://*',
  key_usage: 'KeyUsageKeyEncipherment,KeyUsageKeyAgreement,KeyUsageDigitalSignature',
  ext_key_usage: 'ExtKeyUsageServerAuth,ExtKeyUsageClientAuth',
  client_flag: 'true',
  require_cn: 'false',
  allowed_domains: 'mesh',
  allow_subdomains: 'true',
  basic_constraints_valid_for_non_ca: 'true',
  max_ttl: '720h',
  ttl: '720h',
};

interface Setup {
  mesh: string; // the PKI mount of the mesh ("kmesh-pki-default" unless run against a shared Vault)
  rootMount: string;
  rootPem: string;
  policy: string;
}

/** `vault secrets enable -path=<p> pki`, `vault secrets tune -max-lease-ttl=87600h <p>`. */
async function enablePki(t: Target, path: string, tune: boolean) {
  await ok(call(t, 'POST', `sys/mounts/${path}`, { type: 'pki', description: '', config: {}, options: null }));
  if (tune) await ok(call(t, 'POST', `sys/mounts/${path}/tune`, { max_lease_ttl: '87600h' }));
}

async function rootCaVariant(t: Target): Promise<Setup> {
  const mesh = t.unique('kmesh-pki-default');
  await enablePki(t, mesh, true);
  const gen = await ok(
    call(t, 'PUT', `${mesh}/root/generate/internal`, { common_name: 'Kong Mesh Default', uri_sans: 'spiffe://default', ttl: '87600h' }),
  );
  const rootPem = String(gen.json.data?.certificate); // -field=certificate
  return { mesh, rootMount: mesh, rootPem, policy: '' };
}

async function intermediateCaVariant(t: Target): Promise<Setup> {
  const rootMount = t.unique('pki');
  await enablePki(t, rootMount, true);
  const gen = await ok(call(t, 'PUT', `${rootMount}/root/generate/internal`, { common_name: 'Organization CA', ttl: '87600h' }));
  const caPemFile = `${String(gen.json.data?.certificate)}\n`; // > ca.pem

  const mesh = t.unique('kmesh-pki-default');
  await enablePki(t, mesh, false); // the seed does not tune this one
  const inter = await ok(
    call(t, 'PUT', `${mesh}/intermediate/generate/internal`, { common_name: 'Kong Mesh Mesh Default', uri_sans: 'spiffe://default' }),
  );
  const csrFile = `${String(inter.json.data?.csr)}\n`; // jq -r '.data.csr' > pki_intermediate.csr

  const signed = await ok(call(t, 'PUT', `${rootMount}/root/sign-intermediate`, { csr: csrFile, format: 'pem_bundle', ttl: '43800h' }));
  const intermediateFile = `${String(signed.json.data?.certificate)}\n`;
  const bundle = `${intermediateFile}\n${caPemFile}`; // cat; echo ""; cat ca.pem
  await ok(call(t, 'PUT', `${mesh}/intermediate/set-signed`, { certificate: bundle }));
  return { mesh, rootMount, rootPem: caPemFile.trim(), policy: '' };
}

/** Steps 2-4: role, policy (HCL verbatim), token. Returns the token for the backend. */
async function rolePolicyToken(t: Target, s: Setup): Promise<string> {
  await ok(call(t, 'PUT', `${s.mesh}/roles/dataplane-proxies`, ROLE_ARGS));
  s.policy = t.unique('kmesh-default-dataplane-proxies');
  const hcl = POLICY_HCL.replace('/kmesh-pki-default/', `/${s.mesh}/`);
  await ok(call(t, 'PUT', `sys/policies/acl/${s.policy}`, { policy: hcl }));
  const created = await ok(
    call(t, 'POST', 'auth/token/create', {
      policies: [s.policy],
      renewable: true,
      no_parent: false,
      no_default_policy: false,
      display_name: '',
      num_uses: 0,
    }),
  );
  const token = created.json.auth?.client_token;
  expect(typeof token).toBe('string');
  return String(token);
}

function client(t: Target, token: string) {
  return nodeVault({ apiVersion: 'v1', endpoint: t.address, token, requestOptions: t.caCertPem ? { ca: t.caCertPem } : {} });
}

function splitPem(text: string): string[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((m) => m[0]);
}

function uriSans(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(', ')
    .filter((s) => s.startsWith('URI:'))
    .map((s) => s.slice(4));
}

async function issueAndVerify(t: Target, s: Setup, token: string, expectIntermediate: boolean) {
  const vault = client(t, token);
  const uris = ['spiffe://default/backend', 'kuma://kuma.io/service/backend', 'kuma://kuma.io/zone/zone-1'];
  const before = Date.now();
  const resp = (await vault.write(`${s.mesh}/issue/dataplane-proxies`, { uri_sans: uris.join(','), ttl: '1000h' })) as {
    data: {
      certificate: string;
      issuing_ca: string;
      ca_chain: string[];
      private_key: string;
      private_key_type: string;
      serial_number: string;
      expiration: number;
    };
    warnings: string[] | null;
  };
  const d = resp.data;
  expect(d.private_key_type).toBe('rsa');
  expect(d.private_key).toMatch(/BEGIN RSA PRIVATE KEY/);
  expect(d.serial_number).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2})+$/);

  // ttl=1000h is above the role's max_ttl=720h: Vault caps it and warns rather than failing.
  expect(resp.warnings).toEqual(['TTL "1000h0m0s" is longer than permitted maxTTL "720h0m0s", so maxTTL is being used']);
  const leaf = new X509Certificate(d.certificate);
  const lifetimeH = (Date.parse(leaf.validTo) - before) / 3600_000;
  expect(lifetimeH).toBeGreaterThan(719.9);
  expect(lifetimeH).toBeLessThanOrEqual(720.01);
  expect(d.expiration).toBe(Math.floor(Date.parse(leaf.validTo) / 1000));

  expect(uriSans(leaf).sort()).toEqual([...uris].sort());
  expect(leaf.subject ?? '').toBe(''); // require_cn=false and no common_name
  expect(leaf.ca).toBe(false);
  // The key was generated by the server and matches the certificate.
  expect(leaf.checkPrivateKey((await import('node:crypto')).createPrivateKey(d.private_key))).toBe(true);

  // Chain: leaf <- issuing CA [<- root], and the root is the one the seed saved.
  const issuing = new X509Certificate(d.issuing_ca);
  expect(leaf.checkIssued(issuing)).toBe(true);
  expect(leaf.verify(issuing.publicKey)).toBe(true);
  const chain = d.ca_chain.map((p) => new X509Certificate(p));
  const root = new X509Certificate(s.rootPem);
  expect(chain[0]?.fingerprint256).toBe(issuing.fingerprint256);
  expect(chain.at(-1)?.fingerprint256).toBe(root.fingerprint256);
  expect(chain.length).toBe(expectIntermediate ? 2 : 1);
  for (let i = 0; i + 1 < chain.length; i++) {
    const child = chain[i] as X509Certificate;
    const parent = chain[i + 1] as X509Certificate;
    expect(child.verify(parent.publicKey)).toBe(true);
  }
  expect(root.verify(root.publicKey)).toBe(true);
  return { leaf, issuing, root };
}

describe.each([
  { name: 'root CA', setup: rootCaVariant, intermediate: false },
  { name: 'intermediate CA', setup: intermediateCaVariant, intermediate: true },
])('seed 001 replay: $name', ({ setup, intermediate }) => {
  let t: Target;
  let s: Setup;
  let token: string;

  beforeAll(async () => {
    t = await openTarget({ tls: true });
    s = await setup(t);
    token = await rolePolicyToken(t, s);
  });

  afterAll(async () => {
    if (t?.external) {
      await call(t, 'DELETE', `sys/mounts/${s.mesh}`);
      if (s.rootMount !== s.mesh) await call(t, 'DELETE', `sys/mounts/${s.rootMount}`);
      await call(t, 'DELETE', `sys/policies/acl/${s.policy}`);
    }
    await t?.stop();
  });

  it('issues through node-vault with the token of step 4; URI SANs, capped TTL and chain check out', async () => {
    const { root } = await issueAndVerify(t, s, token, intermediate);
    if (!intermediate) expect(uriSans(root)).toEqual(['spiffe://default']);
  });

  it('reads the role back with Vault types (durations in seconds, lists split)', async () => {
    const r = await ok(call(t, 'GET', `${s.mesh}/roles/dataplane-proxies`));
    const d = r.json.data ?? {};
    expect(d.max_ttl).toBe(2592000);
    expect(d.ttl).toBe(2592000);
    expect(d.allowed_uri_sans).toEqual(['spiffe://default/*', 'kuma://*']);
    expect(d.allowed_domains).toEqual(['mesh']);
    expect(d.require_cn).toBe(false);
    expect(d.key_type).toBe('rsa');
    expect(d.key_bits).toBe(2048);
  });

  it('the seed role\'s "KeyUsage..." names are not Vault key usages: no keyUsage extension, EKUs from the flags', async () => {
    const vault = client(t, token);
    const resp = (await vault.write(`${s.mesh}/issue/dataplane-proxies`, { uri_sans: 'spiffe://default/web' })) as {
      data: { certificate: string };
    };
    const leaf = new X509Certificate(resp.data.certificate);
    const { x509 } = await import('../servers/vault/pki/x509.js');
    const parsed = new x509.X509Certificate(resp.data.certificate);
    expect(parsed.getExtension(x509.KeyUsagesExtension)).toBeNull();
    expect(leaf.keyUsage?.sort()).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    const bc = parsed.getExtension(x509.BasicConstraintsExtension);
    expect(bc?.ca).toBe(false); // basic_constraints_valid_for_non_ca=true
  });

  it('serves the CA for trust bundles: ca/pem raw, ca_chain raw, cert/ca_chain JSON', async () => {
    const pem = await ok(call(t, 'GET', `${s.mesh}/ca/pem`, undefined, { token: null }));
    expect(pem.contentType).toBe('application/pem-certificate-chain');
    expect(splitPem(pem.text)).toHaveLength(1);
    const chainRaw = await ok(call(t, 'GET', `${s.mesh}/ca_chain`, undefined, { token: null }));
    const chainJson = await ok(call(t, 'GET', `${s.mesh}/cert/ca_chain`, undefined, { token: null }));
    const blocks = splitPem(chainRaw.text);
    expect(blocks).toHaveLength(intermediate ? 2 : 1);
    expect(splitPem(String(chainJson.json.data?.certificate))).toEqual(blocks);
    expect(new X509Certificate(blocks.at(-1) as string).fingerprint256).toBe(new X509Certificate(s.rootPem).fingerprint256);
  });

  it('the step-4 token is limited to the issue path', async () => {
    const r = await call(t, 'GET', `${s.mesh}/roles/dataplane-proxies`, undefined, { token });
    expect(r.status).toBe(403);
    expect(r.json.errors?.[0]).toContain('permission denied');
    const self = await ok(call(t, 'GET', 'auth/token/lookup-self', undefined, { token }));
    expect(self.json.data?.policies).toEqual(['default', s.policy].sort());
  });
});
