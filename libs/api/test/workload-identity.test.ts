// MeshIdentity, MeshTrust and MeshTLS as resources: the Kong pages' examples, Kuma's validator
// cases (with meshca's paths), the SPIFFE ID templates, and which identity and MeshTLS a dataplane gets.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { generateCa } from '@meshca/pki';
import {
  bestMatch,
  computeMeshInsight,
  effectiveMeshTls,
  meshTrustCertificates,
  parseDocuments,
  parseTemplate,
  renderSpiffeId,
  renderTrustDomain,
  toKubernetes,
  toUniversal,
  usesWorkloadLabel,
  validateResource,
  type MeshIdentitySpec,
  type MeshTlsSpec,
  type MeshTrustSpec,
  type Resource,
  type ResourceInput,
} from '../src/index.js';

const KONG = join(import.meta.dirname, 'fixtures/kong');
const kong = (f: string) => readFileSync(join(KONG, f), 'utf8');
/** The `config:` of a Kong policy example file (its Universal form). */
const kongConfig = (f: string): unknown => (parseYaml(kong(f)) as { config: unknown }).config;
const one = (text: string): ResourceInput => {
  const docs = parseDocuments(text);
  expect(docs).toHaveLength(1);
  return docs[0]!;
};
const errorsOf = (type: string, spec: unknown, extra: Record<string, unknown> = {}) =>
  validateResource(one(JSON.stringify({ type, name: 'x', mesh: 'default', ...extra, spec })));

describe('the Kong pages examples', () => {
  const files = readdirSync(KONG).filter((f) => f.endsWith('.yaml'));

  it.each(files.filter((f) => f !== 'meshtrust-allow-encrypted-traffic.yaml' && !f.startsWith('howto-meshtls') && !f.includes('labels')))(
    '%s parses and validates',
    (f) => {
      const text = f.startsWith('howto') || f.includes('-index-') ? kong(f) : JSON.stringify(kongConfig(f));
      const input = one(text);
      expect(validateResource(input)).toEqual([]);
    },
  );

  it('reads every document of the multi-document examples', () => {
    for (const f of ['howto-meshtls-kv.yaml', 'meshidentity-index-labels.yaml']) {
      const docs = parseDocuments(kong(f));
      expect(docs).toHaveLength(2);
      for (const d of docs) expect(validateResource(d)).toEqual([]);
    }
  });

  it('reads the user-CA example, whose ca sits beside bundled, as provider.bundled.ca', () => {
    const input = one(JSON.stringify(kongConfig('meshidentity-bundled-with-user-ca.yaml')));
    const spec = input.spec as MeshIdentitySpec;
    expect(spec.provider?.bundled?.ca?.certificate).toEqual({ type: 'File', file: { path: '/ca.crt' } });
    expect((spec.provider as Record<string, unknown>).ca).toBeUndefined();
    expect(validateResource(input)).toEqual([]);
  });

  it('keeps both Kubernetes and Universal forms of the full structure the same resource', () => {
    const k = one(kong('meshidentity-index-full-kubernetes.yaml'));
    const u = one(kong('meshidentity-index-full-universal.yaml'));
    expect(k.meta).toEqual(u.meta);
    expect((k.spec as MeshIdentitySpec).provider).toEqual((u.spec as MeshIdentitySpec).provider);
  });

  it('refuses the MeshTrust example until its placeholder is a certificate, then takes it', () => {
    const config = kongConfig('meshtrust-allow-encrypted-traffic.yaml') as { spec: { caBundles: { pem: { value: string } }[] } };
    expect(validateResource(one(JSON.stringify(config)))).toEqual([
      {
        field: 'spec.caBundles[0].pem.value',
        message:
          'provided certificate has incorrect format; give PEM "-----BEGIN CERTIFICATE-----" blocks (replace any placeholder with the real certificate)',
      },
    ]);
    config.spec.caBundles[0]!.pem.value = generateCa({ commonName: 'zone-2', keyType: 'ecdsa-p256', validitySeconds: 3600 }).certPem;
    expect(validateResource(one(JSON.stringify(config)))).toEqual([]);
  });
});

describe('MeshIdentity validation (Kuma validator cases, meshca paths)', () => {
  it('names an unparseable template and says what it may use', () => {
    const errors = errorsOf('MeshIdentity', {
      spiffeID: { trustDomain: '{{ .Mesh|1 }}.{ .Zone|2 }.mesh.local', path: '/ns/{{ .Namespace|invalid }}/sa/{{ .ServiceAccount }}' },
    });
    expect(errors.map((e) => e.field)).toEqual(['spec.spiffeID.trustDomain', 'spec.spiffeID.path']);
    expect(errors[0]!.message).toMatch(
      /^couldn't parse template: has "\{\{ \.Mesh\|1 \}\}", which meshca does not render; use \{\{ \.Mesh \}\}, \{\{ \.Zone \}\}/,
    );
  });

  it('refuses a variable the template does not have, and text no trust domain can hold', () => {
    expect(errorsOf('MeshIdentity', { spiffeID: { trustDomain: '{{ .Workload }}.mesh' } })[0]).toEqual({
      field: 'spec.spiffeID.trustDomain',
      message: `couldn't parse template: uses .Workload, which this template does not have; use {{ .Mesh }}, {{ .Zone }}, {{ label "<key>" }}`,
    });
    expect(errorsOf('MeshIdentity', { spiffeID: { trustDomain: 'Prod.Mesh' } })[0]?.message).toMatch(/lowercase letters/);
    expect(errorsOf('MeshIdentity', { spiffeID: { path: 'workload/{{ .Workload }}' } })[0]?.message).toMatch(/path must start with "\/"/);
  });

  it('checks the provider as Kuma does', () => {
    const cases: [unknown, string, RegExp][] = [
      [{ type: 'Vault' }, 'spec.provider.type', /must be one of \["Bundled", "Spire", "Extension"\]/],
      [{ type: 'Bundled' }, 'spec.provider.bundled', /configuration needs to be defined/],
      [{ type: 'Bundled', bundled: { insecureAllowSelfSigned: true } }, 'spec.provider.bundled.ca', /must be defined/],
      [
        { type: 'Bundled', bundled: { insecureAllowSelfSigned: true, autogenerate: { enabled: true }, ca: {} } },
        'spec.provider.bundled.ca',
        /shouldn't be defined once using autogenerated/,
      ],
      [{ type: 'Bundled', bundled: { autogenerate: { enabled: true } } }, 'spec.provider.bundled.insecureAllowSelfSigned', /self-signed/],
      [
        { type: 'Bundled', bundled: { meshTrustCreation: 'Sometimes', insecureAllowSelfSigned: true, autogenerate: { enabled: true } } },
        'spec.provider.bundled.meshTrustCreation',
        /must be one of \["Enabled", "Disabled"\]/,
      ],
      [
        {
          type: 'Bundled',
          bundled: {
            ca: {
              certificate: { type: 'File', file: { path: 'ca.crt' } },
              privateKey: { type: 'Secret', secretRef: { kind: 'Secret', name: 'k' } },
            },
          },
        },
        'spec.provider.bundled.ca.certificate.file.path',
        /must be absolute/,
      ],
      [
        {
          type: 'Bundled',
          bundled: {
            ca: {
              certificate: { type: 'Secret', secretRef: { kind: 'Opaque', name: 'c' } },
              privateKey: { type: 'Secret', secretRef: { kind: 'Secret', name: 'k' } },
            },
          },
        },
        'spec.provider.bundled.ca.certificate.secretRef.kind',
        /must be one of: Secret/,
      ],
      [
        {
          type: 'Bundled',
          bundled: { insecureAllowSelfSigned: true, autogenerate: { enabled: true }, certificateParameters: { expiry: '-1h' } },
        },
        'spec.provider.bundled.certificateParameters.expiry',
        /./,
      ],
      [{ type: 'Spire' }, 'spec.provider.spire', /configuration needs to be defined/],
      [{ type: 'Extension', extension: {} }, 'spec.provider.extension.name', /extension name needs to be defined/],
    ];
    for (const [provider, field, message] of cases) {
      const errors = errorsOf('MeshIdentity', { selector: { dataplane: { matchLabels: {} } }, provider });
      expect(
        errors.map((e) => e.field),
        JSON.stringify(provider),
      ).toContain(field);
      expect(errors.find((e) => e.field === field)?.message).toMatch(message);
    }
  });

  it('refuses unknown fields with the nearest known name (Kuma would drop them)', () => {
    expect(errorsOf('MeshIdentity', { selecter: {} })).toEqual([
      { field: 'spec.selecter', message: 'unknown field for a MeshIdentity; did you mean "selector"?' },
    ]);
  });

  it('accepts a spec without provider (SPIFFE IDs only, as Kuma)', () => {
    expect(errorsOf('MeshIdentity', { selector: { dataplane: { matchLabels: { app: 'a' } } } })).toEqual([]);
  });
});

describe('MeshTrust validation', () => {
  it('checks bundles first, then the trust domain (Kuma full-invalid case)', () => {
    const errors = errorsOf('MeshTrust', {
      caBundles: [{ type: 'Pem', pem: { value: 'not a pem' } }, { type: 'Pem' }],
      trustDomain: 'x'.repeat(260),
    });
    expect(errors.map((e) => [e.field, e.message])).toEqual([
      ['spec.caBundles[0].pem.value', expect.stringMatching(/^provided certificate has incorrect format/)],
      ['spec.caBundles[1].pem', 'must be defined; give pem.value with the PEM of the CA certificates'],
      ['spec.trustDomain', 'must not be longer than 253 characters'],
    ]);
    expect(errorsOf('MeshTrust', { caBundles: [] })[0]).toEqual({
      field: 'spec.caBundles',
      message: 'must not be empty; list the CA certificates: - type: Pem, pem: { value: <PEM> }',
    });
  });

  it('refuses a private key in a bundle: a trust bundle goes to every zone and dataplane', () => {
    const ca = generateCa({ commonName: 'c', keyType: 'ecdsa-p256', validitySeconds: 3600 });
    const errors = errorsOf('MeshTrust', { trustDomain: 'td', caBundles: [{ type: 'Pem', pem: { value: ca.certPem + ca.keyPem } }] });
    expect(errors).toEqual([
      {
        field: 'spec.caBundles[0].pem.value',
        message: 'holds a private key; a MeshTrust carries CA certificates only: remove the key block',
      },
    ]);
    expect(JSON.stringify(errors)).not.toContain('PRIVATE KEY-----\n');
  });

  it('lists each certificate of its bundles', () => {
    const a = generateCa({ commonName: 'a', keyType: 'ecdsa-p256', validitySeconds: 3600 }).certPem;
    const b = generateCa({ commonName: 'b', keyType: 'ecdsa-p256', validitySeconds: 3600 }).certPem;
    const spec: MeshTrustSpec = { trustDomain: 'td', caBundles: [{ type: 'Pem', pem: { value: a + b } }] };
    expect(meshTrustCertificates(spec)).toEqual([a, b]);
  });
});

describe('MeshTLS validation (Kuma 2.14 cases)', () => {
  it('refuses a mode, version or cipher Kuma refuses, at its path', () => {
    const errors = errorsOf('MeshTLS', {
      targetRef: { kind: 'Mesh' },
      rules: [{ default: { mode: 'Lenient', tlsVersion: { min: 'TLS13', max: 'TLS12' }, tlsCiphers: ['RC4'] } }],
    });
    expect(errors.map((e) => e.field)).toEqual([
      'spec.rules[0].default.mode',
      'spec.rules[0].default.tlsCiphers',
      'spec.rules[0].default.tlsVersion.min',
    ]);
    expect(errors[2]!.message).toBe('min version must be lower than max');
  });

  it('keeps versions and ciphers to kind Mesh, and rules apart from from', () => {
    const errors = errorsOf('MeshTLS', {
      targetRef: { kind: 'Dataplane', labels: { app: 'a' } },
      rules: [{ default: { tlsVersion: { min: 'TLS12' } } }],
      from: [{ targetRef: { kind: 'Mesh' }, default: { mode: 'Strict' } }],
    });
    expect(errors.map((e) => e.message)).toEqual([
      "field 'from' must be empty when 'rules' is defined; move the from entries' default into rules",
      'tlsVersion can only be defined with top level targetRef kind: Mesh',
    ]);
    expect(errorsOf('MeshTLS', { targetRef: { kind: 'MeshService' } })[0]?.message).toMatch(/value 'MeshService' is not supported/);
  });
});

describe('SPIFFE ID templates', () => {
  const identity = (spiffeID?: MeshIdentitySpec['spiffeID']): MeshIdentitySpec => ({ ...(spiffeID ? { spiffeID } : {}) });

  it('renders the defaults per zone (Kuma helpers_test)', () => {
    expect(renderTrustDomain(identity(), { mesh: 'test-mesh', zone: 'test-zone', labels: {} })).toEqual({
      ok: true,
      value: 'test-mesh.test-zone.mesh.local',
    });
    expect(renderSpiffeId(identity(), 'test-mesh.test-zone.mesh.local', { 'kuma.io/workload': 'my-workload' })).toEqual({
      ok: true,
      value: 'spiffe://test-mesh.test-zone.mesh.local/workload/my-workload',
    });
    expect(
      renderSpiffeId(identity({ path: '/custom/{{ .Namespace }}/{{ .ServiceAccount }}' }), 'td', {
        'k8s.kuma.io/namespace': 'custom-namespace',
        'k8s.kuma.io/service-account': 'custom-sa',
      }),
    ).toEqual({ ok: true, value: 'spiffe://td/custom/custom-namespace/custom-sa' });
  });

  it('says why a dataplane cannot get an ID: a missing label, an empty segment', () => {
    expect(renderSpiffeId(identity({ path: '/app/{{ label "app" }}' }), 'td', {})).toEqual({
      ok: false,
      error: 'failed to render SPIFFE ID template: label app not found',
    });
    // The seed's Option 4 path on a dataplane without k8s.kuma.io/namespace.
    expect(
      renderSpiffeId(identity({ path: '/{{ .Namespace }}/{{ .Workload }}' }), 'internal.kongair.com', { 'kuma.io/workload': 'w' }),
    ).toEqual({
      ok: false,
      error: 'failed to parse SPIFFE ID "spiffe://internal.kongair.com//w": path cannot contain empty segments',
    });
  });

  it('knows which paths need the kuma.io/workload label', () => {
    expect(usesWorkloadLabel(identity())).toBe(true);
    expect(usesWorkloadLabel(identity({ path: '/w/{{- label "kuma.io/workload" -}}' }))).toBe(true);
    expect(usesWorkloadLabel(identity({ path: '/ns/{{ .Namespace }}/sa/{{ .ServiceAccount }}' }))).toBe(false);
    expect(usesWorkloadLabel(identity({ path: '' }))).toBe(false);
  });

  it('trims around {{- and -}} as Go does', () => {
    const t = parseTemplate('a  {{- .Mesh -}}  b', ['Mesh']);
    expect(t.ok && t.template.parts).toEqual([{ text: 'a' }, { field: 'Mesh' }, { text: 'b' }]);
    expect(parseTemplate('{{ .Mesh }', ['Mesh'])).toEqual({ ok: false, error: 'has an unbalanced "{{" or "}}"' });
  });
});

describe('which MeshIdentity selects a dataplane (Kuma helpers_test)', () => {
  const id = (name: string, matchLabels?: Record<string, string>, selector = true) => ({
    name,
    spec: (selector ? { selector: { dataplane: matchLabels === undefined ? {} : { matchLabels } } } : {}) as MeshIdentitySpec,
  });
  const dp = (labels: Record<string, string>, tags: Record<string, string[]> = {}) => ({ labels, tags });
  const three = [
    id('not-matching-1', { app: 'test-app', version: 'v1' }),
    id('matching-all', {}),
    id('matching-specific', { app: 'test-app' }),
  ];

  it('takes the most specific, then the lexicographically first name', () => {
    expect(bestMatch(three, dp({ app: 'test-app' }))?.name).toBe('matching-specific');
    expect(
      bestMatch([id('matching-v1', { app: 'test-app', version: 'v1' }), ...three.slice(1)], dp({ app: 'test-app', version: 'v1' }))?.name,
    ).toBe('matching-v1');
    expect(bestMatch(three, dp({ app: 'demo-app', version: 'v1' }))?.name).toBe('matching-all');
    expect(
      bestMatch(
        [id('b-matching-v1', { app: 'demo-app', version: 'v1' }), id('a-matching-v1', { app: 'demo-app', version: 'v1' })],
        dp({ app: 'demo-app', version: 'v1' }),
      )?.name,
    ).toBe('a-matching-v1');
    expect(
      bestMatch(
        [id('b-matching-v1', { app: 'test-app', version: 'v1' }), id('a-matching-v1', { app: 'test-app', env: 'prod' })],
        dp({ app: 'test-app', version: 'v1', env: 'prod' }),
      )?.name,
    ).toBe('a-matching-v1');
    expect(bestMatch([], dp({}))).toBeUndefined();
  });

  it('selects nothing with selector: {} or no selector, everything with dataplane: {} or matchLabels: {}', () => {
    expect(bestMatch([id('none', undefined, false)], dp({ app: 'x' }))).toBeUndefined();
    expect(bestMatch([{ name: 'empty', spec: { selector: {} } }], dp({ app: 'x' }))).toBeUndefined();
    expect(bestMatch([id('all', undefined)], dp({}))?.name).toBe('all');
  });

  it('matches a tag of any inbound as a label', () => {
    expect(bestMatch([id('web', { 'kuma.io/service': 'web' })], dp({}, { 'kuma.io/service': ['api', 'web'] }))?.name).toBe('web');
  });
});

describe('the MeshTLS mode of a dataplane', () => {
  const tls = (name: string, spec: MeshTlsSpec) => ({ name, spec });
  const dp = { name: 'redis-1', labels: { app: 'redis' }, tags: { 'kuma.io/service': ['redis'] } };

  it('lets a Dataplane policy override a Mesh one, and the first name win at one level', () => {
    const policies = [
      tls('mesh-permissive', { targetRef: { kind: 'Mesh' }, rules: [{ default: { mode: 'Permissive' } }] }),
      tls('strict-mode', { targetRef: { kind: 'Dataplane', labels: { app: 'redis' } }, rules: [{ default: { mode: 'Strict' } }] }),
    ];
    expect(effectiveMeshTls(policies, dp).mode).toBe('Strict');
    expect(effectiveMeshTls(policies, { ...dp, labels: { app: 'web' } }).mode).toBe('Permissive');
    const twoMesh = [tls('b', { rules: [{ default: { mode: 'Strict' } }] }), tls('a', { rules: [{ default: { mode: 'Permissive' } }] })];
    expect(effectiveMeshTls(twoMesh, dp)).toEqual({ mode: 'Permissive', policies: ['b', 'a'] });
  });
});

describe('forms', () => {
  it('prints status and drops it again on apply, in both forms', () => {
    const input = one(kong('meshidentity-index-full-universal.yaml'));
    const stored: Resource = {
      meta: { ...input.meta, labels: {}, creationTime: '2026-01-01T00:00:00Z', modificationTime: '2026-01-01T00:00:00Z', version: 1 },
      spec: input.spec,
    };
    const universal = {
      ...toUniversal(stored),
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
      kri: 'kri_mid_default___identity_',
    };
    expect(one(JSON.stringify(universal)).spec).toEqual(input.spec);
    const kube: Record<string, unknown> = { ...toKubernetes(stored), status: { conditions: [] } };
    expect(kube.metadata).toMatchObject({ namespace: 'kong-mesh-system' });
    expect(one(JSON.stringify(kube)).spec).toEqual(input.spec);
  });
});

describe('MeshInsight: which CAs every dataplane trusts', () => {
  const online = { online: new Set(['east', 'west']) };
  const dp = (name: string, zone: string, fps?: string[], connected = true) => ({
    name,
    zone,
    connected,
    issuedBackend: 'ca-1',
    ...(fps ? { trustedCaFingerprints: fps } : {}),
  });

  it('intersects the bundles of the connected dataplanes and names the ones that lag', () => {
    const insight = computeMeshInsight([dp('a', 'east', ['f1', 'f2']), dp('b', 'west', ['f1']), dp('c', 'west', ['f2'], false)], online, [
      'f1',
      'f2',
    ]);
    expect(insight).toEqual({
      dataplanes: { total: 3, online: 2 },
      mTLS: {
        issuedBackends: { 'ca-1': 2 },
        trustedEverywhere: ['f1'],
        pending: '1 dataplane does not hold every MeshTrust in its bundle yet (zone "west": b)',
      },
    });
  });

  it('counts every known CA with nobody connected, and ignores a dataplane with no bundle yet', () => {
    expect(computeMeshInsight([], online, ['f2', 'f1']).mTLS).toEqual({ issuedBackends: {}, trustedEverywhere: ['f1', 'f2'] });
    expect(computeMeshInsight([dp('new', 'east')], online, ['f1']).mTLS.trustedEverywhere).toEqual(['f1']);
  });

  it('trusts nothing while a zone that just connected may still have dataplanes reconnecting to it', () => {
    // A restarted zone reports no dataplanes at first: that must not read as "nobody can break".
    const settling = { online: online.online, settling: new Map([['west', 2]]) };
    expect(computeMeshInsight([dp('a', 'east', ['f1'])], settling, ['f1']).mTLS).toEqual({
      issuedBackends: { 'ca-1': 1 },
      trustedEverywhere: [],
      pending: 'zone "west" connected 2s ago: waiting for its dataplanes to reconnect and report what they trust',
    });
  });

  it('trusts nothing while a zone with connected dataplanes is offline', () => {
    expect(computeMeshInsight([dp('a', 'south', ['f1'])], online, ['f1']).mTLS).toEqual({
      issuedBackends: {},
      trustedEverywhere: [],
      pending: 'zone "south" is offline, so what its dataplanes trust is unknown',
    });
  });
});
