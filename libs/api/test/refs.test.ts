import { describe, expect, it } from 'vitest';
import { seedText } from '@meshca/test/fixtures';
import { keyString, parseDocuments, parseObject, resourceKey, secretReferences } from '../src/index.js';

const fixture = (f: string) => parseDocuments(seedText(f))[0]!;

describe('secretReferences', () => {
  it('lists every secret DataSource of the vault example, in order, with its field', () => {
    expect(secretReferences(fixture('001-vault-universal.yaml'))).toEqual([
      { field: 'mtls.backends[0].conf.fromCp.tls.caCert', secret: 'sec-1' },
      { field: 'mtls.backends[0].conf.fromCp.auth.token', secret: 'token-1' },
      { field: 'mtls.backends[0].conf.fromCp.auth.tls.clientKey', secret: 'sec-2' },
    ]);
  });
  it('follows the acm spelling and skips file DataSources', () => {
    expect(secretReferences(fixture('002-acm-kubernetes.yaml'))).toEqual([
      { field: 'mtls.backends[0].conf.auth.awsCredentials.accessKey', secret: 'aws-access-key' },
      { field: 'mtls.backends[0].conf.auth.awsCredentials.accessKeySecret', secret: 'aws-secret-key' },
    ]);
    expect(secretReferences(fixture('004-acmpca-universal.yaml')).map((r) => r.secret)).toEqual(['sec-1', 'sec-2']);
  });
  it('is empty for builtin-only meshes and other types', () => {
    expect(secretReferences(fixture('003-start-universal.yaml'))).toEqual([]);
    expect(secretReferences(fixture('002-meshidentity-universal.yaml'))).toEqual([]);
  });
});

describe('resourceKey', () => {
  it('keeps the mesh for mesh-scoped types only', () => {
    const secret = parseObject({ type: 'Secret', name: 's', mesh: 'm', data: 'YQ==', labels: { a: 'b' } });
    expect(resourceKey(secret)).toEqual({ type: 'Secret', name: 's', mesh: 'm' });
    expect(resourceKey(parseObject({ type: 'Mesh', name: 'm' }))).toEqual({ type: 'Mesh', name: 'm' });
    expect(keyString(resourceKey(secret))).toBe('Secret/m/s');
    expect(keyString({ type: 'Mesh', name: 'm' })).toBe('Mesh/m');
  });
});
