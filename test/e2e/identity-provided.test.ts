// End to end: a provided CA (Secrets applied through meshctl) issues in both zones and cross-zone mTLS
// verifies against it; bad CA material is refused at apply; a token for another identity is refused
// with the reason shown to the dataplane; global sees every zone's dataplanes and their certificates.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { connectIdentity, type IdentityHandle } from '@meshca/dp-agent';
import { generateCa } from '@meshca/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, fixture, secretYaml, startMeshEnv, type MeshEnv, type MeshService } from '../src/index.js';

let env: MeshEnv;
const ca = generateCa({ commonName: 'e2e provided CA', keyType: 'ecdsa-p256', validitySeconds: 3600 });
let web: MeshService;
let backend: MeshService;

beforeAll(async () => {
  env = await startMeshEnv();
  // A mesh's Secrets need the mesh: create it without mTLS, add the CA, then enable it.
  const applied = await env.meshctlInput(
    [
      'type: Mesh\nname: default\n',
      secretYaml('ca-p-cert', ca.certPem),
      secretYaml('ca-p-key', ca.keyPem),
      fixture('mesh-provided-ca-p.yaml'),
    ].join('---\n'),
    'apply',
    '-f',
    '-',
  );
  expect(applied.code, applied.stderr).toBe(0);
  [web, backend] = await Promise.all([
    env.startService('zone-1', { name: 'web-1', service: 'web' }),
    env.startService('zone-2', { name: 'backend-1', service: 'backend', csr: true }),
  ]);
}, 60_000);

afterAll(async () => {
  await env?.stop();
});

describe('provided CA across two zones', () => {
  it('issues from the provided CA in each zone, and cross-zone mTLS verifies in both directions', async () => {
    expect(await web.call(backend)).toBe('backend@zone-2');
    expect(await backend.call(web)).toBe('web@zone-1');
    const caCert = new X509Certificate(ca.certPem);
    for (const svc of [web, backend]) {
      const id = svc.handle.current()!;
      expect(id.backend).toBe('ca-p');
      const leaf = new X509Certificate(id.certChainPem);
      expect(leaf.verify(caCert.publicKey)).toBe(true);
      expect(leaf.subjectAltName).toContain(`URI:${svc.spiffeId}`);
      expect(id.bundlePem).toContain(ca.certPem.trim().split('\n')[1]);
    }
  });

  it("global lists each zone's dataplanes with their certificate state", async () => {
    const items = await eventually(async () => {
      const res = await env.admin.call<{ items: (Record<string, unknown> & { name: string })[] }>(
        'GET',
        '/meshes/default/dataplane-insights',
      );
      expect(res.status).toBe(200);
      const byName = new Map(res.body.items.map((i) => [i.name, i]));
      for (const [svc, zone] of [
        [web, 'zone-1'],
        [backend, 'zone-2'],
      ] as const) {
        const spec = byName.get(`${zone}.${svc.name}`);
        expect(spec, `${zone}.${svc.name} in ${[...byName.keys()].join(', ')}`).toBeDefined();
        expect(spec!.zone).toBe(zone);
        const mtls = spec!.mTLS as Record<string, unknown>;
        expect(mtls.issuedBackend).toBe('ca-p');
        expect(mtls.supportedBackends).toEqual(['ca-p']);
        expect(mtls.certificateSerial).toBe(svc.handle.current()!.serial);
      }
      return byName;
    });
    expect(items.size).toBeGreaterThanOrEqual(2);
  });
});

describe('bad provided CA material is refused at apply, naming the backend', () => {
  const other = generateCa({ commonName: 'other', keyType: 'ecdsa-p256', validitySeconds: 3600 });
  const expired = generateCa({
    commonName: 'old',
    keyType: 'ecdsa-p256',
    validitySeconds: 3600,
    notBefore: new Date(Date.now() - 3 * 3600_000),
  });
  const cases: [string, string, string, RegExp][] = [
    ['key of another CA', ca.certPem, other.keyPem, /does not match its certificate/],
    ['expired CA', expired.certPem, expired.keyPem, /expired at/],
    ['not a certificate', 'hello', ca.keyPem, /not PEM/],
  ];
  for (const [what, cert, key, reason] of cases) {
    it(`${what}`, async () => {
      const res = await env.meshctlInput(
        [secretYaml('bad-cert', cert), secretYaml('bad-key', key), fixture('mesh-provided-ca-p-and-ca-bad.yaml')].join('---\n'),
        'apply',
        '-f',
        '-',
      );
      expect(res.code).toBe(1);
      expect(res.stderr).toContain('provided backend "ca-bad"');
      expect(res.stderr).toMatch(reason);
      // Private material never appears in the refusal.
      expect(res.stderr).not.toContain(key.trim().split('\n')[1]);
      const stored = await env.admin.call<{ mtls: { backends: { name: string }[] } }>('GET', '/meshes/default');
      expect(stored.body.mtls.backends.map((b) => b.name)).toEqual(['ca-p']);
    });
  }
});

describe('a dataplane token only lets in its own identity', () => {
  async function attempt(name: string, service: string, token: string): Promise<{ handle: IdentityHandle; problem: string }> {
    const zone = env.zones['zone-1']!;
    const handle = connectIdentity({
      zone: zone.apiUrl,
      token,
      ca: await readFile(zone.caFile, 'utf8'),
      reconnect: { baseMs: 100, maxMs: 60_000 },
      dataplane: {
        mesh: 'default',
        name,
        networking: { address: '127.0.0.1', inbound: [{ port: 1, tags: { 'kuma.io/service': service } }] },
      },
    });
    const problem = await new Promise<string>((ok) => handle.once('problem', ok));
    return { handle, problem };
  }

  it('refuses another name and another service, and the dataplane sees why', async () => {
    const token = await env.dataplaneToken({ mesh: 'default', name: 'web-2', tags: { 'kuma.io/service': 'web' } });
    const asOther = await attempt('backend-1', 'backend', token);
    const asApi = await attempt('web-2', 'api', token);
    try {
      expect(asOther.problem).toContain('zone refused this dataplane');
      expect(asOther.problem).toContain('the token is for dataplane "web-2", not "backend-1"');
      expect(asApi.problem).toMatch(/kuma\.io\/service.*the token allows "web", not "api"/);
      for (const { handle } of [asOther, asApi]) {
        expect(handle.current()).toBeUndefined();
        expect(handle.status().lastError?.message).toContain('zone refused this dataplane');
      }
      // The same token with its own identity gets a certificate.
      const own = await env.startService('zone-1', { name: 'web-2', service: 'web', token });
      expect(own.handle.current()?.backend).toBe('ca-p');
      expect(await own.call(backend)).toBe('backend@zone-2');
    } finally {
      await Promise.all([asOther.handle.close(), asApi.handle.close()]);
    }
  });
});
