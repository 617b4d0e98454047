// Every YAML example of the reference documents (extracted by fixtures/extract-seeds.mjs) must apply unchanged,
// except the documented trap: the 000/001 vault examples set both auth.token and auth.tls.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SEEDS, seedText } from '@meshca/test/fixtures';
import { parseDocuments, parseDuration, type ResourceInput, validateResource } from '../src/index.js';

const fixtures = readdirSync(SEEDS)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const read = seedText;
const parseOne = (f: string): ResourceInput => {
  const docs = parseDocuments(read(f));
  expect(docs).toHaveLength(1);
  return docs[0]!;
};
const DOUBLE_AUTH = /^(000|001)-vault-/;
const AUTH_FIELD = 'mtls.backends[0].conf.fromCp.auth';

type Backend = { conf: { fromCp: { auth: Record<string, unknown> } } };
function backend0(input: ResourceInput): Backend {
  return (input.spec as { mtls: { backends: Backend[] } }).mtls.backends[0]!;
}

describe('seed fixtures', () => {
  it('holds every example of every seed, in both tabs', () => {
    expect(fixtures).toHaveLength(24);
    for (const seed of ['000', '001', '002', '003', '004']) {
      expect(fixtures.filter((f) => f.startsWith(seed)).length).toBeGreaterThan(0);
    }
    for (const f of fixtures) expect(read(f)).not.toMatch(/\{%|kubectl|kumactl|echo '/);
  });

  it.each(fixtures.filter((f) => !DOUBLE_AUTH.test(f)))('%s parses and validates', (f) => {
    expect(validateResource(parseOne(f))).toEqual([]);
  });

  it.each(fixtures.filter((f) => DOUBLE_AUTH.test(f)))('%s fails only on the double vault auth', (f) => {
    const input = parseOne(f);
    expect(validateResource(input)).toEqual([
      {
        field: AUTH_FIELD,
        message: 'set exactly one of token or tls, not both (remove tls to use the token, or remove token to use client certificates)',
      },
    ]);
    for (const remove of ['token', 'tls']) {
      const fixed = structuredClone(input);
      delete backend0(fixed).conf.fromCp.auth[remove];
      expect(validateResource(fixed)).toEqual([]);
    }
  });

  const pairs = fixtures.filter((f) => f.endsWith('-kubernetes.yaml')).map((k) => [k, k.replace('-kubernetes', '-universal')] as const);

  it('pairs every Kubernetes example with its Universal twin', () => {
    expect(pairs).toHaveLength(12);
    for (const [, u] of pairs) expect(fixtures).toContain(u);
  });

  it.each(pairs)('%s and %s parse to the same resource', (k, u) => {
    const kube = parseOne(k);
    const universal = parseOne(u);
    // The seeds write the same validity as 1d on Kubernetes and 24h on Universal: equal durations, not equal text.
    const kubeExp = expirationOf(kube);
    const uniExp = expirationOf(universal);
    if (kubeExp !== undefined || uniExp !== undefined) {
      expect(parseDuration(kubeExp!)).toBe(parseDuration(uniExp!));
      setExpiration(kube, uniExp!);
    }
    expect(kube).toEqual(universal);
  });
});

function rotation(input: ResourceInput): { expiration?: string } | undefined {
  const backends = (input.spec as { mtls?: { backends?: { dpCert?: { rotation?: { expiration?: string } } }[] } }).mtls?.backends;
  return backends?.[0]?.dpCert?.rotation;
}
function expirationOf(input: ResourceInput): string | undefined {
  return rotation(input)?.expiration;
}
function setExpiration(input: ResourceInput, value: string): void {
  rotation(input)!.expiration = value;
}

describe('what the seeds mean', () => {
  it('reads seed 002 acm spelling as an acmpca backend with conf', () => {
    const b = (parseOne('002-acm-universal.yaml').spec as { mtls: { backends: Record<string, unknown>[] } }).mtls.backends[0]!;
    expect(b.type).toBe('acmpca');
    expect(b.acm).toBeUndefined();
    expect(b.conf).toEqual({
      arn: 'arn:aws:acm-pca:region:account:certificate-authority/uuid',
      auth: { awsCredentials: { accessKey: { secret: 'aws-access-key' }, accessKeySecret: { secret: 'aws-secret-key' } } },
    });
  });

  it('reads the spec: block of the Universal cert-manager example as the Mesh fields', () => {
    const input = parseOne('002-cert-manager-universal.yaml');
    expect(Object.keys(input.spec)).toEqual(['mtls']);
    const b = (input.spec as { mtls: { backends: Record<string, unknown>[] } }).mtls.backends[0]!;
    expect(b).toEqual({
      name: 'cert-manager-ca',
      type: 'cert-manager',
      conf: { issuerName: 'corporate-issuer', issuerKind: 'ClusterIssuer' },
    });
  });

  it('keeps fields outside mtls verbatim (meshServices)', () => {
    expect(parseOne('002-vault-universal.yaml').spec).toMatchObject({ meshServices: { mode: 'Exclusive' } });
  });

  it('keeps the vault template and the empty optional strings', () => {
    const fromCp = backend0(parseOne('001-vault-universal.yaml')).conf.fromCp as Record<string, unknown>;
    expect(fromCp.commonName).toBe('{{ tag "kuma.io/service" }}.mesh');
    expect(fromCp.agentAddress).toBe('');
    expect(fromCp.address).toBe('https://vault.8200');
  });

  it('takes the MeshIdentity mesh from the kuma.io/mesh label and keeps its spec', () => {
    const input = parseOne('002-meshidentity-kubernetes.yaml');
    expect(input.meta).toEqual({ type: 'MeshIdentity', name: 'flight-operations-id', mesh: 'default', labels: {} });
    expect(input.spec).toMatchObject({ spiffeID: { path: '/{{ .Namespace }}/{{ .Workload }}', trustDomain: 'internal.kongair.com' } });
  });
});
