// Global's API against a clumsy operator and an attacker: secrets are never echoed, bodies are read
// only after the token is checked and are bounded, a client's mistake is a 4xx (never a 500),
// durations and names have bounds, and the control plane's own resources are not writable.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDACTED } from '@meshca/api';
import { createLogger } from '@meshca/common';
import { generateCa } from '@meshca/pki';
import { apiRequest, type ApiReply } from '@meshca/test/api-request';
import { startGlobal, type GlobalControlPlane } from '../src/global-cp.js';

let cp: GlobalControlPlane;
const logs: string[] = [];
type Call = (
  method: string,
  path: string,
  body?: unknown,
  opts?: { token?: boolean; headers?: Record<string, string> },
) => Promise<ApiReply>;
let call: Call;

beforeAll(async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'meshca-hardening-'));
  const log = createLogger({ name: 'test', level: 'debug', destination: { write: (line) => void logs.push(line) } });
  cp = await startGlobal({ dataDir, apiAddress: '127.0.0.1', apiPort: 0, log });
  const target = { apiUrl: cp.apiUrl, caFile: cp.apiCaFile as string, tokenFile: cp.adminTokenFile };
  call = (method, path, body, opts) => apiRequest(target, method, path, body, opts);
  expect((await call('PUT', '/meshes/default', { type: 'Mesh', name: 'default' })).status).toBe(201);
});

afterAll(async () => {
  await cp.close();
});

const vaultMesh = (auth: unknown) => ({
  type: 'Mesh',
  name: 'default',
  mtls: { enabledBackend: 'v', backends: [{ name: 'v', type: 'vault', conf: { fromCp: { address: 'https://vault:8200', auth } } }] },
});

describe('no secret is echoed', () => {
  const MARK = 'SECRETMARK';
  const cases: [string, unknown][] = [
    ['a Vault token as plain text where a DataSource goes', vaultMesh({ token: `hvs.${MARK}abc` })],
    ['a Vault token as a number', vaultMesh({ token: 424242424242 })],
    ['a token written where the Secret name goes', vaultMesh({ token: { secret: `HVS.${MARK}` } })],
    ['a client key as plain text', vaultMesh({ tls: { clientKey: `-----BEGIN PRIVATE KEY-----${MARK}`, clientCert: { secret: 'c' } } })],
    [
      'a provided CA key as plain text',
      {
        type: 'Mesh',
        name: 'default',
        mtls: {
          enabledBackend: 'p',
          backends: [{ name: 'p', type: 'provided', conf: { cert: { secret: 'c' }, key: `-----BEGIN EC PRIVATE KEY-----${MARK}` } }],
        },
      },
    ],
    [
      'ACM keys as plain text',
      {
        type: 'Mesh',
        name: 'default',
        mtls: {
          enabledBackend: 'a',
          backends: [
            {
              name: 'a',
              type: 'acmpca',
              conf: {
                arn: 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/x',
                auth: { awsCredentials: { accessKey: `AKIA${MARK}`, accessKeySecret: `${MARK}/sec` } },
              },
            },
          ],
        },
      },
    ],
  ];
  it.each(cases)('%s: refused with the field, the value in neither the answer nor the log', async (_what, body) => {
    const before = logs.length;
    const r = await call('PUT', '/meshes/default', body);
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({
      causes: expect.arrayContaining([expect.objectContaining({ field: expect.stringMatching(/^mtls\.backends\[0\]\.conf/) })]),
    });
    expect(r.text).not.toContain(MARK);
    expect(r.text).not.toContain('424242424242');
    const logged = logs.slice(before).join('\n');
    expect(logged).toContain('request refused');
    expect(logged).not.toContain(MARK);
    expect(logged).not.toContain('424242424242');
  });

  it('a Secret whose data is not base64 is refused without quoting it', async () => {
    const r = await call('PUT', '/meshes/default/secrets/s', { type: 'Secret', name: 's', mesh: 'default', data: `${MARK} not base64!` });
    expect(r.status).toBe(400);
    expect(r.text).not.toContain(MARK);
  });

  it('reads without the admin token do not show inline key material; reads with it do', async () => {
    const ca = generateCa({ commonName: 'inline', keyType: 'ecdsa-p256', validitySeconds: 86400 });
    const mesh = {
      type: 'Mesh',
      name: 'inline',
      mtls: {
        enabledBackend: 'p',
        backends: [{ name: 'p', type: 'provided', conf: { cert: { inlineString: ca.certPem }, key: { inlineString: ca.keyPem } } }],
      },
    };
    expect((await call('PUT', '/meshes/inline', mesh)).status).toBe(201);
    for (const path of ['/meshes/inline', '/meshes']) {
      const open = await call('GET', path, undefined, { token: false });
      expect(open.status).toBe(200);
      expect(open.text).not.toContain('PRIVATE KEY');
      expect(open.text).toContain(REDACTED);
      expect(open.text).toContain('BEGIN CERTIFICATE'); // a certificate is public
      const full = await call('GET', path);
      expect(full.text).toContain('PRIVATE KEY');
    }
    expect((await call('DELETE', '/meshes/inline')).status).toBe(200);
  });
});

describe('bodies: read after the token check, bounded, well-formed', () => {
  it('answers 401 to a large body without a token before reading it', async () => {
    const huge = `{"type":"Mesh","name":"default","x":"${'a'.repeat(3_800_000)}`; // not even valid JSON
    const r = await call('PUT', '/meshes/default', huge, { token: false });
    expect(r.status).toBe(401);
  });

  it('answers 413 to a body larger than the route allows, 400 to deep nesting and duplicate keys', async () => {
    const big = await call('PUT', '/meshes/default', { type: 'Mesh', name: 'default', pad: 'x'.repeat(300 * 1024) });
    expect(big.status).toBe(413);
    expect(big.json).toMatchObject({ status: 413, detail: expect.stringContaining('256 KiB') });
    const deep = await call('PUT', '/meshes/default', `{"type":"Mesh","name":"default","x":${'['.repeat(40)}${']'.repeat(40)}}`);
    expect(deep.status).toBe(400);
    expect(deep.json).toMatchObject({ detail: expect.stringContaining('nested deeper than 32') });
    const dup = await call('PUT', '/meshes/default', '{"type":"Mesh","name":"default","mtls":{},"mtls":{"enabledBackend":"x"}}');
    expect(dup.status).toBe(400);
    expect(dup.json).toMatchObject({ detail: expect.stringContaining('"mtls" appears twice') });
    // A Secret may be larger than a Mesh.
    const secret = await call('PUT', '/meshes/default/secrets/big', {
      type: 'Secret',
      name: 'big',
      mesh: 'default',
      data: Buffer.alloc(600 * 1024).toString('base64'),
    });
    expect(secret.status).toBe(201);
  });

  it("answers a client's mistakes with 4xx and logs no error", async () => {
    const before = logs.length;
    const json = { 'content-type': 'application/json' };
    const cases: [string, Promise<ApiReply>, number][] = [
      ['bad percent-encoding in the path', call('GET', '/meshes/%ff'), 400],
      [
        'a non-UTF-8 charset',
        call('PUT', '/meshes/default', '{"type":"Mesh","name":"default"}', {
          headers: { 'content-type': 'application/json; charset=latin1' },
        }),
        415,
      ],
      [
        'UTF-16',
        call('PUT', '/meshes/default', '{"type":"Mesh","name":"default"}', {
          headers: { 'content-type': 'application/json; charset=utf-16' },
        }),
        415,
      ],
      ['a compressed body', call('PUT', '/meshes/default', 'not gzip at all', { headers: { ...json, 'content-encoding': 'gzip' } }), 415],
      ['an unknown encoding', call('PUT', '/meshes/default', '{}', { headers: { ...json, 'content-encoding': 'x-nonsense' } }), 415],
      ['not JSON', call('PUT', '/meshes/default', 'type: Mesh', { headers: { 'content-type': 'text/yaml' } }), 415],
      ['broken JSON', call('PUT', '/meshes/default', '{"type":', { headers: json }), 400],
      [
        'If-Match on a Mesh that does not exist',
        call('PUT', '/meshes/ghost', { type: 'Mesh', name: 'ghost' }, { headers: { 'if-match': '3' } }),
        412,
      ],
    ];
    for (const [what, reply, status] of cases) expect((await reply).status, what).toBe(status);
    expect(logs.slice(before).filter((l) => JSON.parse(l).level >= 50)).toEqual([]);
    expect((await call('GET', '/meshes/ghost')).status).toBe(404);
  });
});

describe('bounds', () => {
  const builtin = (conf: unknown, dpCert?: unknown) => ({
    type: 'Mesh',
    name: 'default',
    mtls: { enabledBackend: 'b', backends: [{ name: 'b', type: 'builtin', ...(dpCert ? { dpCert } : {}), conf }] },
  });
  it.each([
    ['a CA for 10000 years', builtin({ caCert: { expiration: '10000y' } }), 'mtls.backends[0].conf.caCert.expiration'],
    ['a CA for 1 second', builtin({ caCert: { expiration: '1s' } }), 'mtls.backends[0].conf.caCert.expiration'],
    ['a dataplane certificate for 1ns', builtin({}, { rotation: { expiration: '1ns' } }), 'mtls.backends[0].dpCert.rotation.expiration'],
    [
      'a dataplane certificate for 99999999y',
      builtin({}, { rotation: { expiration: '99999999y' } }),
      'mtls.backends[0].dpCert.rotation.expiration',
    ],
    [
      'a dataplane certificate longer than its builtin CA',
      builtin({ caCert: { expiration: '2h' } }, { rotation: { expiration: '3h' } }),
      'mtls.backends[0].dpCert.rotation.expiration',
    ],
  ])('refuses %s, naming the field', async (_what, body, field) => {
    const r = await call('PUT', '/meshes/default', body);
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ causes: [expect.objectContaining({ field })] });
  });

  it('refuses token requests outside their bounds', async () => {
    const refused = async (path: string, body: unknown, field: string) => {
      const r = await call('POST', path, body);
      expect(r.status, `${path} ${JSON.stringify(body).slice(0, 80)}`).toBe(400);
      expect(r.json).toMatchObject({ causes: [expect.objectContaining({ field })] });
    };
    await refused('/tokens/zone', { zone: 'east', validFor: '99999999999y' }, 'validFor');
    for (const name of ['..', 'a/b', 'a\u0000b', 'web-😀', 'x'.repeat(300)])
      await refused('/tokens/dataplane', { mesh: 'default', name }, 'name');
    expect((await call('POST', '/tokens/dataplane', { mesh: 'default', name: 'x'.repeat(100_000) })).status).toBe(413);
    await refused('/tokens/dataplane', { mesh: '../etc', name: 'web-1' }, 'mesh');
    await refused(
      '/tokens/dataplane',
      { mesh: 'default', name: 'web-1', tags: { 'kuma.io/service': 'x'.repeat(300) } },
      'tags["kuma.io/service"]',
    );
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"jti":"x","kind":"zone","zone":"east"}').toString('base64url')}.`;
    await refused('/tokens/revoke', { token: none }, 'token');
    await refused('/tokens/revoke', { jti: 'x'.repeat(10_000) }, 'jti');
    // What it did sign, it revokes.
    const token = (await call('POST', '/tokens/dataplane', { mesh: 'default', name: 'web-1' })).text;
    const revoked = await call('POST', '/tokens/revoke', { token });
    expect(revoked.status).toBe(200);
  });

  it('keeps the builtin CA Secrets for global: an API write of one is refused with the reason', async () => {
    const r = await call('PUT', '/meshes/default/secrets/default.ca-builtin-key-ca-1', {
      type: 'Secret',
      name: 'default.ca-builtin-key-ca-1',
      mesh: 'default',
      data: 'YQ==',
    });
    expect(r.status).toBe(403);
    expect(r.json).toMatchObject({ detail: expect.stringContaining('global creates with its Mesh') });
  });
});
