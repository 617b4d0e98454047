// Global and workload identity: the seed's Option 4 and the Kong pages' examples through the API,
// the checks beyond shape, the deletes it refuses while dataplanes depend on them, and the status it
// shows from what zones report.
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseDocuments, toUniversal } from '@meshca/api';
import { createLogger } from '@meshca/common';
import { ApiCallError, createClient, type ApiClient } from '@meshca/ctl';
import { generateCa } from '@meshca/pki';
import { eventually } from '@meshca/test/eventually';
import { seedText } from '@meshca/test/fixtures';
import { startGlobal, type GlobalControlPlane } from '../src/global-cp.js';

let cp: GlobalControlPlane;
let admin: ApiClient;

const KONG = join(import.meta.dirname, '../../../libs/api/test/fixtures/kong');
const kongConfig = (f: string) => (parseYaml(readFileSync(join(KONG, f), 'utf8')) as { config: Record<string, unknown> }).config;
const b64 = (s: string) => Buffer.from(s).toString('base64');

async function failure(p: Promise<unknown>): Promise<ApiCallError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApiCallError)) throw new Error(`expected an API error, got ${String(err)}`);
  return err;
}

async function put(doc: Record<string, unknown>): Promise<void> {
  const path = {
    Mesh: `/meshes/${String(doc.name)}`,
    Secret: `/meshes/${String(doc.mesh)}/secrets/${String(doc.name)}`,
    MeshIdentity: `/meshes/${String(doc.mesh)}/meshidentities/${String(doc.name)}`,
    MeshTrust: `/meshes/${String(doc.mesh)}/meshtrusts/${String(doc.name)}`,
    MeshTLS: `/meshes/${String(doc.mesh)}/meshtlses/${String(doc.name)}`,
  }[String(doc.type)];
  if (!path) throw new Error(`no path for ${String(doc.type)}`);
  await admin.call('PUT', path, doc);
}

/** A seed document as the API takes it (its Universal form). */
function universal(text: string): Record<string, unknown> {
  const [input] = parseDocuments(text);
  return toUniversal(input!);
}

beforeAll(async () => {
  cp = await startGlobal({
    dataDir: await mkdtemp(join(tmpdir(), 'meshca-wi-')),
    apiAddress: '127.0.0.1',
    apiPort: 0,
    log: createLogger({ name: 'test', level: 'silent', pretty: false }),
  });
  admin = await createClient({ name: 't', address: cp.apiUrl, tokenFile: cp.adminTokenFile, caCertFile: cp.apiCaFile });
  await put({ type: 'Mesh', name: 'default' });
});

afterAll(async () => {
  await cp.close();
});

describe('the seed Option 4 (Provided, Modern Identity Mode)', () => {
  const ca = generateCa({ commonName: 'flight-ops', keyType: 'ecdsa-p256', validitySeconds: 86400 });

  it('is refused while its Secrets do not exist, naming the field, then applies in both forms', async () => {
    const doc = universal(seedText('002-meshidentity-universal.yaml'));
    const err = await failure(put(doc));
    expect(err.status).toBe(400);
    expect(err.body.causes).toEqual([
      {
        field: 'spec.provider.bundled.ca.certificate.secretRef.name',
        message: 'secret "flight-ops-ca-cert" does not exist in mesh "default"; create it first (meshctl apply -f secret.yaml)',
      },
      {
        field: 'spec.provider.bundled.ca.privateKey.secretRef.name',
        message: 'secret "flight-ops-ca-key" does not exist in mesh "default"; create it first (meshctl apply -f secret.yaml)',
      },
    ]);
    expect(await failure(admin.call('GET', '/meshes/default/meshidentities/flight-operations-id'))).toMatchObject({ status: 404 });

    await put({ type: 'Secret', mesh: 'default', name: 'flight-ops-ca-cert', data: b64(ca.certPem) });
    await put({ type: 'Secret', mesh: 'default', name: 'flight-ops-ca-key', data: b64(ca.keyPem) });
    await put(doc);
    await put(universal(seedText('002-meshidentity-kubernetes.yaml')));
    const { body } = await admin.call<Record<string, unknown>>('GET', '/meshes/default/meshidentities/flight-operations-id');
    expect(body).toMatchObject({ type: 'MeshIdentity', spec: { spiffeID: { trustDomain: 'internal.kongair.com' } } });
    // No zone has reported it yet.
    expect(body.status).toEqual({
      conditions: [{ type: 'Ready', status: 'False', reason: 'NoZoneReported', message: 'no zone has reported this identity yet' }],
      zones: [],
    });
  });

  it('checks the CA it names: a self-signed one only with insecureAllowSelfSigned, a CA and its key', async () => {
    const doc = universal(seedText('002-meshidentity-universal.yaml')) as { spec: { provider: { bundled: Record<string, unknown> } } };
    delete doc.spec.provider.bundled.insecureAllowSelfSigned;
    const err = await failure(put({ ...doc, name: 'strict-id' }));
    expect(err.body.causes).toEqual([
      {
        field: 'spec.provider.bundled.ca.certificate',
        message: 'self-signed certificates are not allowed; give a CA signed by your root, or set insecureAllowSelfSigned: true',
      },
    ]);
    const other = generateCa({ commonName: 'other', keyType: 'ecdsa-p256', validitySeconds: 86400 });
    await put({ type: 'Secret', mesh: 'default', name: 'other-key', data: b64(other.keyPem) });
    const withOtherKey = structuredClone(universal(seedText('002-meshidentity-universal.yaml'))) as {
      spec: { provider: { bundled: { ca: { privateKey: { secretRef: { name: string } } } } } };
    };
    withOtherKey.spec.provider.bundled.ca.privateKey.secretRef.name = 'other-key';
    expect((await failure(put({ ...withOtherKey, name: 'mismatched' }))).body.causes).toEqual([
      { field: 'spec.provider.bundled.ca.privateKey', message: 'does not match the CA certificate; give the key of that certificate' },
    ]);
  });
});

describe('the Kong pages examples', () => {
  it("apply, the user-CA one read on the zones (File sources are the zones' to read)", async () => {
    for (const f of ['meshidentity-bundled-minimal.yaml', 'meshidentity-bundled-with-user-ca.yaml', 'meshidentity-spire-provider.yaml']) {
      const config = kongConfig(f);
      await put({ ...config, name: `${String(config.name)}-${f.length}` });
    }
    await put(kongConfig('meshtls-set-specific-tls-version.yaml'));
    await put(kongConfig('meshtls-strict-mode.yaml'));
    const { body } = await admin.call<{ total: number }>('GET', '/meshes/default/meshtlses');
    expect(body.total).toBe(2);
  });

  it('refuses the MeshTrust example as written (a placeholder, zone labels) and takes it filled in, on global', async () => {
    const config = kongConfig('meshtrust-allow-encrypted-traffic.yaml') as {
      labels: Record<string, string>;
      spec: { caBundles: { pem: { value: string } }[] };
    };
    expect((await failure(put(config))).body.causes).toEqual([
      {
        field: 'spec.caBundles[0].pem.value',
        message:
          'provided certificate has incorrect format; give PEM "-----BEGIN CERTIFICATE-----" blocks (replace any placeholder with the real certificate)',
      },
    ]);
    config.spec.caBundles[0]!.pem.value = generateCa({ commonName: 'zone-2', keyType: 'ecdsa-p256', validitySeconds: 3600 }).certPem;
    const labelled = await failure(put(config));
    const causes = labelled.body.causes ?? [];
    expect(causes.map((c) => c.field)).toEqual(['labels["kuma.io/origin"]', 'labels["kuma.io/zone"]']);
    expect(causes[0]?.message).toMatch(/^Operation not allowed. 'kuma.io\/origin' label should have 'global' value, got 'zone'/);
    await put({ ...config, labels: {} });
    const { body } = await admin.call<{ status: unknown }>('GET', '/meshes/default/meshtrusts/zone-2-trust');
    expect(body.status).toEqual({});
  });
});

describe('checks beyond shape', () => {
  it('needs the mesh, and keeps the names zones publish MeshTrusts under', async () => {
    const spec = { selector: { dataplane: { matchLabels: {} } } };
    expect((await failure(put({ type: 'MeshIdentity', mesh: 'nope', name: 'x', spec }))).body.causes).toEqual([
      { field: 'mesh', message: 'mesh "nope" does not exist; apply the Mesh first' },
    ]);
    await put({ type: 'MeshIdentity', mesh: 'default', name: 'spiffe-only', spec });
    const pem = generateCa({ commonName: 't', keyType: 'ecdsa-p256', validitySeconds: 3600 }).certPem;
    const clash = await failure(
      put({
        type: 'MeshTrust',
        mesh: 'default',
        name: 'spiffe-only',
        spec: { trustDomain: 'td', caBundles: [{ type: 'Pem', pem: { value: pem } }] },
      }),
    );
    expect(clash.body.causes).toEqual([
      {
        field: 'name',
        message: 'is the name of MeshIdentity "spiffe-only": zones publish its MeshTrust under that name; choose another name',
      },
    ]);
  });

  it('computes MeshInsight itself: it cannot be written', async () => {
    const err = await failure(admin.call('PUT', '/mesh-insights/default', { type: 'MeshInsight', name: 'default' }));
    expect(err.status).toBe(405);
    // No dataplane anywhere: every CA the mesh's MeshTrusts carry counts as trusted.
    await eventually(async () => {
      const { body } = await admin.call<{ mTLS: { trustedEverywhere: string[] } }>('GET', '/mesh-insights/default');
      expect(body.mTLS.trustedEverywhere).toHaveLength(1);
    });
  });
});

describe('zones publish, global shows', () => {
  const zoneCa = generateCa({ commonName: 'default.east.mesh.local', keyType: 'ecdsa-p256', validitySeconds: 86400 });

  /** What zone east's sync stream writes: its MeshTrust and its ZoneInsight. */
  async function eastReports(dataplanes: number): Promise<void> {
    const store = cp.store;
    const labels = { 'kuma.io/zone': 'east', 'kuma.io/origin': 'zone', 'meshca.io/origin-kri': 'kri_mid_default_east__autogen_' };
    const trust = {
      meta: { type: 'MeshTrust' as const, mesh: 'default', name: 'east.autogen', labels },
      spec: { trustDomain: 'default.east.mesh.local', caBundles: [{ type: 'Pem', pem: { value: zoneCa.certPem } }] },
    };
    const existing = await store.get(trust.meta);
    if (!existing) await store.create(trust);
    const { X509Certificate, createHash } = await import('node:crypto');
    const fp = createHash('sha256').update(new X509Certificate(zoneCa.certPem).raw).digest('hex');
    const insight = {
      meta: { type: 'ZoneInsight' as const, name: 'east', labels: { 'kuma.io/zone': 'east' } },
      spec: {
        identities: [
          {
            mesh: 'default',
            name: 'autogen',
            kri: 'kri_mid_default_east__autogen_',
            trustDomain: 'default.east.mesh.local',
            conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'Successfully initialized' }],
            caFingerprints: [fp],
            dataplanes,
          },
        ],
      },
    };
    const zi = await store.get(insight.meta);
    if (zi) await store.update(insight, zi.meta.version);
    else await store.create(insight);
  }

  it('shows each zone in the status, and refuses to change or delete what a zone published', async () => {
    await put({
      type: 'MeshIdentity',
      mesh: 'default',
      name: 'autogen',
      spec: {
        selector: { dataplane: { matchLabels: {} } },
        provider: { type: 'Bundled', bundled: { insecureAllowSelfSigned: true, autogenerate: { enabled: true } } },
      },
    });
    await eastReports(2);
    const { body } = await admin.call<{ status: { conditions: unknown[]; zones: unknown[] } }>(
      'GET',
      '/meshes/default/meshidentities/autogen',
    );
    expect(body.status.conditions).toEqual([
      { type: 'Ready', status: 'True', reason: 'Ready', message: 'Successfully initialized in 1 zone' },
    ]);
    expect(body.status.zones).toEqual([
      expect.objectContaining({
        zone: 'east',
        kri: 'kri_mid_default_east__autogen_',
        trustDomain: 'default.east.mesh.local',
        dataplanes: 2,
      }),
    ]);
    const trust = await admin.call<{ status: unknown }>('GET', '/meshes/default/meshtrusts/east.autogen');
    expect(trust.body.status).toEqual({ origin: { kri: 'kri_mid_default_east__autogen_' } });
    const change = await failure(
      admin.call('PUT', '/meshes/default/meshtrusts/east.autogen', { type: 'MeshTrust', mesh: 'default', name: 'east.autogen', spec: {} }),
    );
    expect(change.status).toBe(400); // an empty spec is refused before anything else
    const del = await failure(admin.call('DELETE', '/meshes/default/meshtrusts/east.autogen'));
    expect(del.status).toBe(409);
    expect(del.body.detail).toMatch(/published by zone "east" for its MeshIdentity \(kri_mid_default_east__autogen_\)/);
  });

  it('refuses to delete the only trust of a CA dataplanes hold, or an identity nothing else could replace', async () => {
    // A copy of zone east's CA applied on global, then the zone's own MeshTrust gone: this copy is the only one.
    await put({
      type: 'MeshTrust',
      mesh: 'default',
      name: 'east-copy',
      spec: { trustDomain: 'default.east.mesh.local', caBundles: [{ type: 'Pem', pem: { value: zoneCa.certPem } }] },
    });
    await cp.store.delete({ type: 'MeshTrust', mesh: 'default', name: 'east.autogen' });
    const del = await failure(admin.call('DELETE', '/meshes/default/meshtrusts/east-copy'));
    expect(del.status).toBe(409);
    expect(del.body.detail).toBe(
      'MeshTrust "east-copy" is the only trust of the CA of MeshIdentity "autogen" in zone "east" (2 dataplanes): their peers would stop trusting them. Move those dataplanes to another identity first (meshctl inspect mesh default)',
    );
    // Mesh "default" has no mTLS, but other identities exist: dataplanes would move to them.
    await admin.call('DELETE', '/meshes/default/meshidentities/autogen');
    await eastReports(0);
    await admin.call('DELETE', '/meshes/default/meshtrusts/east-copy');
  });

  it('keeps a MeshInsight per mesh: a zone that reported connected dataplanes and is offline now leaves trust unknown', async () => {
    await cp.store.create({
      meta: { type: 'DataplaneInsight', mesh: 'default', name: 'east.web-1', labels: { 'kuma.io/zone': 'east' } },
      spec: { zone: 'east', connected: true, mTLS: { issuedBackend: 'ca-1', trustedCaFingerprints: [] } },
    });
    await eventually(async () => {
      const { body } = await admin.call<{ dataplanes: unknown; mTLS: { trustedEverywhere: string[]; pending?: string } }>(
        'GET',
        '/mesh-insights/default',
      );
      expect(body.dataplanes).toEqual({ total: 1, online: 0 });
      expect(body.mTLS).toEqual({
        issuedBackends: {},
        trustedEverywhere: [],
        pending: 'zone "east" is offline, so what its dataplanes trust is unknown',
      });
    });
  });
});
