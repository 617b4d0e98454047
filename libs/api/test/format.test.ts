import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseDocuments, parseObject, type Resource, type ResourceInput, toKubernetes, toUniversal } from '../src/index.js';

const meta = { creationTime: '2024-05-01T10:00:00.000Z', modificationTime: '2024-05-02T10:00:00.000Z', version: 7 };
const stored = (input: ResourceInput): Resource => ({
  meta: { ...input.meta, labels: input.meta.labels ?? {}, ...meta },
  spec: input.spec,
});

const INPUTS: ResourceInput[] = [
  parseObject({
    type: 'Mesh',
    name: 'default',
    labels: { team: 'sec' },
    meshServices: { mode: 'Exclusive' },
    mtls: {
      enabledBackend: 'v',
      backends: [
        {
          name: 'v',
          type: 'vault',
          dpCert: { rotation: { expiration: '1d' } },
          conf: { fromCp: { address: 'http://vault:8200', auth: { token: { secret: 't' } } } },
        },
      ],
    },
  }),
  parseObject({ type: 'Secret', name: 'sec-1', mesh: 'prod', data: 'c2VjcmV0' }),
  parseObject({ type: 'GlobalSecret', name: 'g-1', labels: { a: 'b' }, data: 'c2VjcmV0' }),
  parseObject({ type: 'Zone', name: 'zone-1', enabled: true }),
  parseObject({
    type: 'Dataplane',
    name: 'dp-1',
    mesh: 'prod',
    networking: { address: '10.0.0.1', inbound: [{ port: 8080, tags: { 'kuma.io/service': 'web' } }] },
  }),
  parseObject({ type: 'ZoneInsight', name: 'zone-1', subscriptions: [] }),
  parseObject({ type: 'MeshIdentity', name: 'id-1', mesh: 'prod', spec: { selector: { dataplane: { matchLabels: { app: 'x' } } } } }),
];

describe('toUniversal', () => {
  it('writes Kuma Universal JSON: meta first, then the fields', () => {
    const out = toUniversal(stored(INPUTS[1]!));
    expect(out).toEqual({ type: 'Secret', name: 'sec-1', mesh: 'prod', labels: {}, ...meta, version: undefined, data: 'c2VjcmV0' });
    expect(Object.keys(out)).toEqual(['type', 'name', 'mesh', 'labels', 'creationTime', 'modificationTime', 'data']);
    expect(toUniversal(stored(INPUTS[0]!))).not.toHaveProperty('mesh');
    expect(toUniversal(stored(INPUTS[6]!))).toHaveProperty('spec.selector');
  });

  it('writes an input that is not stored yet without times', () => {
    const out = toUniversal(INPUTS[3]!);
    expect(out).toEqual({ type: 'Zone', name: 'zone-1', labels: {}, enabled: true });
    expect(parseObject(out)).toEqual(INPUTS[3]);
    expect(toKubernetes(INPUTS[3]!)).toEqual({
      apiVersion: 'kuma.io/v1alpha1',
      kind: 'Zone',
      metadata: { name: 'zone-1' },
      spec: { enabled: true },
    });
  });

  it.each(INPUTS.map((i) => [i.meta.type, i] as const))('%s round-trips through Universal YAML and JSON', (_, input) => {
    const universal = toUniversal(stored(input));
    expect(parseObject(universal)).toEqual({ ...input, meta: { ...input.meta, labels: input.meta.labels ?? {} } });
    expect(parseDocuments(stringify(universal))).toEqual([parseObject(universal)]);
    expect(parseDocuments(JSON.stringify(universal))).toEqual([parseObject(universal)]);
  });
});

describe('toKubernetes', () => {
  it('writes a Kuma CRD, with the mesh as kuma.io/mesh label for mesh-scoped kinds', () => {
    expect(toKubernetes(stored(INPUTS[4]!))).toEqual({
      apiVersion: 'kuma.io/v1alpha1',
      kind: 'Dataplane',
      metadata: { name: 'dp-1', labels: { 'kuma.io/mesh': 'prod' }, creationTimestamp: meta.creationTime },
      spec: INPUTS[4]!.spec,
    });
  });

  it('writes Secrets as v1 Secrets of the Kuma types in the system namespace', () => {
    expect(toKubernetes(stored(INPUTS[1]!))).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'system.kuma.io/secret',
      metadata: { name: 'sec-1', namespace: 'kong-mesh-system', labels: { 'kuma.io/mesh': 'prod' }, creationTimestamp: meta.creationTime },
      data: { value: 'c2VjcmV0' },
    });
    expect(toKubernetes(stored(INPUTS[2]!), { systemNamespace: 'kuma-system' })).toMatchObject({
      type: 'system.kuma.io/global-secret',
      metadata: { namespace: 'kuma-system', labels: { a: 'b' } },
    });
  });

  it.each(INPUTS.map((i) => [i.meta.type, i] as const))('%s round-trips through a Kubernetes manifest', (_, input) => {
    const manifest = stringify(toKubernetes(stored(input)));
    expect(parseDocuments(manifest)).toEqual([{ ...input, meta: { ...input.meta, labels: input.meta.labels ?? {} } }]);
  });
});
