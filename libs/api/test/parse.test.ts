import { describe, expect, it } from 'vitest';
import { fixture } from '@meshca/test/fixtures';
import { parseDocuments, parseLocatedDocuments, parseObject, parseValidDocuments, ValidationError } from '../src/index.js';
import { thrown } from './thrown.js';

// One Mesh in both forms.
const UNIVERSAL_MESH = fixture('mesh-labelled-universal.yaml');
const KUBE_MESH = fixture('mesh-labelled-kubernetes.yaml');
const EXPECTED = {
  meta: { type: 'Mesh', name: 'default', labels: { team: 'security' } },
  spec: { mtls: { enabledBackend: 'ca-1', backends: [{ name: 'ca-1', type: 'builtin' }] } },
};

describe('parseDocuments: forms', () => {
  it('reads the Universal and the Kubernetes form to the same input', () => {
    expect(parseDocuments(UNIVERSAL_MESH)).toEqual([EXPECTED]);
    expect(parseDocuments(KUBE_MESH)).toEqual([EXPECTED]);
  });

  it('reads JSON, including tab-indented JSON that YAML would refuse', () => {
    const json = JSON.stringify({ type: 'Mesh', name: 'default', labels: { team: 'security' }, mtls: EXPECTED.spec.mtls }, null, '\t');
    expect(parseDocuments(json)).toEqual([EXPECTED]);
  });

  it('reads several documents separated by --- and skips empty ones', () => {
    const docs = parseDocuments(`${UNIVERSAL_MESH}---\n${KUBE_MESH}---\n`);
    expect(docs).toEqual([EXPECTED, EXPECTED]);
  });

  it('reads a top-level list and a Kubernetes List', () => {
    expect(
      parseDocuments(
        JSON.stringify([
          { type: 'Zone', name: 'z1' },
          { type: 'Zone', name: 'z2', enabled: false },
        ]),
      ),
    ).toEqual([
      { meta: { type: 'Zone', name: 'z1', labels: {} }, spec: {} },
      { meta: { type: 'Zone', name: 'z2', labels: {} }, spec: { enabled: false } },
    ]);
    const list = `apiVersion: v1\nkind: List\nitems:\n- apiVersion: kuma.io/v1alpha1\n  kind: Zone\n  metadata: {name: z1}\n  spec: {enabled: true}\n`;
    expect(parseDocuments(list)).toEqual([{ meta: { type: 'Zone', name: 'z1', labels: {} }, spec: { enabled: true } }]);
  });

  it('reads a list as the API answers it and as meshctl get -o yaml|json prints it, item by item', () => {
    const items = [
      { type: 'Zone', name: 'z1', creationTime: '2026-06-01T00:00:00Z', modificationTime: '2026-06-01T00:00:00Z' },
      { type: 'Zone', name: 'z2', enabled: false },
    ];
    const expected = [
      { meta: { type: 'Zone', name: 'z1', labels: {} }, spec: {} },
      { meta: { type: 'Zone', name: 'z2', labels: {} }, spec: { enabled: false } },
    ];
    expect(parseDocuments(JSON.stringify({ total: 2, items, next: null }))).toEqual(expected);
    expect(parseDocuments(`total: 2\nitems:\n${items.map((i) => `  - ${JSON.stringify(i)}\n`).join('')}`)).toEqual(expected);
    expect(parseDocuments(JSON.stringify({ items }))).toEqual(expected);
    // Not a list: an object with other keys is read as one resource (and refused as such).
    expect(() => parseDocuments(JSON.stringify({ items, kind: 'Mesh' }))).toThrow(ValidationError);
  });

  it('says where each resource is in its text: the document, and the item of a list', () => {
    expect(parseLocatedDocuments('type: Zone\nname: z1\n')).toEqual([
      { input: { meta: { type: 'Zone', name: 'z1', labels: {} }, spec: {} } },
    ]);
    const located = parseLocatedDocuments(
      'type: Zone\nname: z1\n---\n---\ntotal: 2\nitems:\n- {type: Zone, name: z2}\n- {type: Zone, name: z3}\n',
    );
    expect(located.map((l) => [l.where, l.input.meta.name])).toEqual([
      ['document 1', 'z1'],
      ['document 3, item 1', 'z2'],
      ['document 3, item 2', 'z3'],
    ]);
  });

  it('maps a Kubernetes Secret of type system.kuma.io/secret to a Secret of the labelled mesh', () => {
    const text = `apiVersion: v1
kind: Secret
metadata:
  name: sec-1
  namespace: kong-mesh-system
  labels:
    kuma.io/mesh: prod
type: system.kuma.io/secret
data:
  value: dGVzdAo=
`;
    expect(parseDocuments(text)).toEqual([
      { meta: { type: 'Secret', name: 'sec-1', mesh: 'prod', labels: {} }, spec: { data: 'dGVzdAo=' } },
    ]);
    expect(parseDocuments(`type: Secret\nname: sec-1\nmesh: prod\ndata: dGVzdAo=\n`)).toEqual(parseDocuments(text));
  });

  it('puts a Kubernetes Secret without the mesh label in mesh "default", as Kuma does', () => {
    const [s] = parseDocuments(`apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: system.kuma.io/secret\ndata: {value: YQ==}\n`);
    expect(s!.meta.mesh).toBe('default');
  });

  it('maps system.kuma.io/global-secret to GlobalSecret and base64-encodes stringData', () => {
    const text = `apiVersion: v1\nkind: Secret\nmetadata: {name: g1}\ntype: system.kuma.io/global-secret\nstringData: {value: hello}\n`;
    expect(parseDocuments(text)).toEqual([
      { meta: { type: 'GlobalSecret', name: 'g1', labels: {} }, spec: { data: Buffer.from('hello').toString('base64') } },
    ]);
  });

  it('refuses Kubernetes secrets that are not Kuma secrets, and kuma.io secret kinds', () => {
    expect(
      thrown(() => parseDocuments(`apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: Opaque\ndata: {value: YQ==}\n`))[0],
    ).toMatchObject({
      field: 'type',
      message: expect.stringContaining('system.kuma.io/secret'),
    });
    expect(thrown(() => parseDocuments(`apiVersion: kuma.io/v1alpha1\nkind: Secret\nmetadata: {name: s}\n`))[0]!.message).toContain(
      'apiVersion: v1, kind: Secret, type: system.kuma.io/secret',
    );
    expect(
      thrown(() =>
        parseDocuments(`apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: system.kuma.io/secret\ndata: {value: YQ==, key: YQ==}\n`),
      )[0],
    ).toMatchObject({
      field: 'data.key',
    });
  });

  it('reads mesh-scoped Universal resources and requires their mesh', () => {
    expect(parseDocuments('type: MeshIdentity\nname: id\nmesh: m1\nspec: {selector: {}}\n')[0]).toEqual({
      meta: { type: 'MeshIdentity', name: 'id', mesh: 'm1', labels: {} },
      spec: { selector: {} },
    });
    expect(thrown(() => parseDocuments('type: Secret\nname: s\ndata: YQ==\n'))).toEqual([
      { field: 'mesh', message: 'required for a Secret; set mesh: to the name of its mesh (e.g. default)' },
    ]);
    expect(thrown(() => parseDocuments('type: Mesh\nname: m\nmesh: default\n'))[0]).toMatchObject({ field: 'mesh' });
  });

  it('accepts a Universal document with its fields under spec, and refuses a field given twice', () => {
    const [m] = parseDocuments('type: Mesh\nname: default\nmetrics: {enabledBackend: p}\nspec:\n  mtls: {enabledBackend: ""}\n');
    expect(m!.spec).toEqual({ metrics: { enabledBackend: 'p' }, mtls: { enabledBackend: '' } });
    expect(thrown(() => parseDocuments('type: Mesh\nname: default\nmtls: {}\nspec:\n  mtls: {}\n'))).toEqual([
      { field: 'spec.mtls', message: 'mtls is set both at the top level and under spec; keep one' },
    ]);
  });

  it('ignores the times toUniversal writes, so its output applies again', () => {
    const [m] = parseDocuments('type: Zone\nname: z\ncreationTime: "2024-01-01T00:00:00Z"\nmodificationTime: "2024-01-01T00:00:00Z"\n');
    expect(m!.spec).toEqual({});
  });
});

describe('parseDocuments: errors', () => {
  it('gives line and column of a YAML syntax error', () => {
    const errors = thrown(() => parseDocuments('type: Mesh\nname: default\nmtls:\n  backends: [a, b\n'));
    expect(errors[0]!.field).toMatch(/^line \d+, column \d+$/);
    expect(errors[0]!.message).toMatch(/^YAML syntax error: .+; fix the YAML there$/);
  });

  it('points at the duplicated key', () => {
    expect(thrown(() => parseDocuments('type: Mesh\nname: a\nname: b\n'))[0]!.field).toBe('line 3, column 1');
  });

  it('prefixes errors with the document number when there are several documents', () => {
    const text = `type: Mesh\nname: ok\n---\ntype: Mesh\nname: bad\nmtls:\n  enabledBackend: missing\n`;
    expect(parseDocuments(text)).toHaveLength(2); // shape is fine: parse does not judge rules
    const errors = thrown(() => parseValidDocuments(text));
    expect(errors).toEqual([
      {
        field: 'document 2: mtls.enabledBackend',
        message: '"missing" is not the name of a backend; add a backend named "missing" under mtls.backends',
      },
    ]);
    expect(thrown(() => parseDocuments('type: Mesh\nname: ok\n---\ntype: Nope\nname: x\n'))[0]!.field).toBe('document 2: type');
  });

  it('does not prefix a single document', () => {
    expect(thrown(() => parseValidDocuments('type: Mesh\nname: Bad_Name\n'))[0]!.field).toBe('name');
  });

  it('refuses unknown types and kinds, saying which are known', () => {
    expect(thrown(() => parseDocuments('type: TrafficRoute\nname: x\n'))[0]!.message).toBe(
      'must be one of Mesh, Secret, GlobalSecret, Zone, Dataplane, ZoneInsight, MeshIdentity, DataplaneInsight, MeshTrust, MeshTLS, MeshInsight (got the text "TrafficRoute")',
    );
    expect(thrown(() => parseDocuments('apiVersion: apps/v1\nkind: Deployment\n'))[0]!.field).toBe('apiVersion');
  });

  it('refuses Kubernetes fields outside spec, which would be lost', () => {
    expect(thrown(() => parseDocuments('apiVersion: kuma.io/v1alpha1\nkind: Mesh\nmetadata: {name: m}\nmtls: {}\n'))).toEqual([
      {
        field: 'mtls',
        message:
          'unknown field for a Kubernetes resource (fields go under spec); remove it (known fields here: apiVersion, kind, metadata, spec, status)',
      },
    ]);
  });

  it('refuses a document that is not a resource, and empty input', () => {
    expect(thrown(() => parseDocuments('just text'))[0]!.message).toContain('a resource must be a mapping');
    expect(thrown(() => parseDocuments('name: x\n'))[0]!.message).toContain('set type and name');
    expect(thrown(() => parseDocuments('   \n'))[0]!.message).toContain('no resource found');
    expect(thrown(() => parseDocuments('type: Mesh\n'))).toEqual([{ field: 'name', message: 'required; give the resource a name' }]);
  });

  it('refuses label values that are not text', () => {
    expect(thrown(() => parseDocuments('type: Mesh\nname: m\nlabels: {version: 2}\n'))).toEqual([
      { field: 'labels.version', message: 'label values are text; quote it ("2")' },
    ]);
  });

  it('refuses both acm and conf on one backend', () => {
    const text = 'type: Mesh\nname: m\nmtls:\n  backends:\n  - {name: a, type: acm, acm: {arn: x}, conf: {arn: y}}\n';
    expect(thrown(() => parseDocuments(text))[0]!.field).toBe('mtls.backends[0].acm');
  });
});

describe('parseObject', () => {
  it('reads a decoded body without changing it, and prefixes errors with where', () => {
    const body = { type: 'Mesh', name: 'm', mtls: { backends: [{ name: 'a', type: 'acm', acm: { arn: 'x' } }] } };
    const before = structuredClone(body);
    const input = parseObject(body);
    expect(body).toEqual(before);
    expect(input.spec).toEqual({ mtls: { backends: [{ name: 'a', type: 'acmpca', conf: { arn: 'x' } }] } });
    const e = thrown(() => parseObject({ type: 'Mesh' }, 'request body'));
    expect(e).toEqual([{ field: 'request body: name', message: 'required; give the resource a name' }]);
  });

  it('throws ValidationError whose message lists every field', () => {
    expect(() => parseObject(42)).toThrow(ValidationError);
    expect(() => parseObject(42)).toThrow(/Resource is not valid: : a resource must be a mapping/);
  });
});
