import { describe, expect, it } from 'vitest';
import { type FieldError, parseObject, type ResourceInput, validateResource } from '../src/index.js';

const mesh = (mtls: unknown, extra: Record<string, unknown> = {}): ResourceInput => ({
  meta: { type: 'Mesh', name: 'default' },
  spec: { ...extra, mtls },
});
const one = (backend: Record<string, unknown>, enabled?: string): ResourceInput =>
  mesh({ ...(enabled ? { enabledBackend: enabled } : {}), backends: [backend] });
const vault = (fromCp: Record<string, unknown>) => one({ name: 'v', type: 'vault', conf: { fromCp } });
const fields = (errors: FieldError[]) => errors.map((e) => e.field);
const TOKEN = { token: { secret: 'token-1' } };

describe('mtls: backends and enabledBackend', () => {
  it('accepts a mesh without mtls, and mtls without backends', () => {
    expect(validateResource(mesh(undefined))).toEqual([]);
    expect(validateResource(mesh({}))).toEqual([]);
    expect(validateResource(mesh({ enabledBackend: '', backends: [] }))).toEqual([]);
  });

  it('requires enabledBackend to name a backend', () => {
    expect(validateResource(one({ name: 'ca-1', type: 'builtin' }, 'ca-2'))).toEqual([
      {
        field: 'mtls.enabledBackend',
        message: '"ca-2" is not the name of a backend; set it to one of ca-1, or add a backend named "ca-2"',
      },
    ]);
  });

  it('requires unique, non-empty, valid backend names', () => {
    const errors = validateResource(
      mesh({
        backends: [
          { name: 'ca-1', type: 'builtin' },
          { name: 'ca-1', type: 'builtin' },
          { name: '', type: 'builtin' },
          { name: 'CA_3', type: 'builtin' },
        ],
      }),
    );
    expect(errors).toEqual([
      { field: 'mtls.backends[1].name', message: '"ca-1" is already the name of mtls.backends[0]; give each backend its own name' },
      { field: 'mtls.backends[2].name', message: 'is empty; give the backend a name, e.g. ca-1' },
      { field: 'mtls.backends[3].name', message: expect.stringContaining('"CA_3" is not a valid name; use lowercase letters') },
    ]);
  });

  it('names the known backend types', () => {
    expect(validateResource(one({ name: 'a', type: 'hsm' }))).toEqual([
      {
        field: 'mtls.backends[0].type',
        message: 'unknown backend type "hsm"; use one of builtin, provided, vault, acmpca, cert-manager (acm is read as acmpca)',
      },
    ]);
    expect(validateResource(one({ name: 'a' }))).toEqual([
      { field: 'mtls.backends[0].type', message: 'required; set one of builtin, provided, vault, acmpca, cert-manager' },
    ]);
  });

  it('checks mode, durations and skipValidation', () => {
    const errors = validateResource(
      mesh({
        skipValidation: 'yes',
        backends: [
          {
            name: 'a',
            type: 'builtin',
            mode: 'strict',
            dpCert: { rotation: { expiration: 'tomorrow' }, requestTimeout: '0s' },
            rootChain: { requestTimeout: 10 },
          },
        ],
      }),
    );
    expect(errors).toEqual([
      { field: 'mtls.skipValidation', message: 'must be true or false (got the text "yes")' },
      { field: 'mtls.backends[0].mode', message: 'must be STRICT (the default) or PERMISSIVE (got the text "strict")' },
      {
        field: 'mtls.backends[0].dpCert.rotation.expiration',
        message: expect.stringMatching(/^"tomorrow" is not a duration; write it like 90s, 10m, 24h, 1d/),
      },
      { field: 'mtls.backends[0].dpCert.requestTimeout', message: 'must be longer than zero; write e.g. 24h' },
      { field: 'mtls.backends[0].rootChain.requestTimeout', message: 'must be a duration with a unit, like 24h or 1d (got number 10)' },
    ]);
    const ok = one(
      {
        name: 'a',
        type: 'builtin',
        mode: 'PERMISSIVE',
        dpCert: { rotation: { expiration: '1h30m' }, requestTimeout: '500ms' },
        rootChain: { requestTimeout: '10s' },
      },
      'a',
    );
    expect(validateResource(ok)).toEqual([]);
  });
});

describe('mtls: unknown keys are refused with the nearest known name', () => {
  it('config for conf', () => {
    expect(validateResource(one({ name: 'ca-2', type: 'provided', config: { cert: { secret: 'c' }, key: { secret: 'k' } } }))).toEqual([
      { field: 'mtls.backends[0].config', message: 'unknown field; did you mean "conf"?' },
      { field: 'mtls.backends[0].conf', message: 'required for a provided backend; add its conf block' },
    ]);
  });

  it('at every level of mtls', () => {
    const errors = validateResource(
      mesh({
        enabledBackends: 'v',
        backends: [{ name: 'v', type: 'vault', dpcert: {}, conf: { fromCP: {} } }],
      }),
    );
    expect(errors).toEqual(
      expect.arrayContaining([
        { field: 'mtls.enabledBackends', message: 'unknown field; did you mean "enabledBackend"?' },
        { field: 'mtls.backends[0].dpcert', message: 'unknown field; did you mean "dpCert"?' },
        { field: 'mtls.backends[0].conf.fromCP', message: 'unknown field for a vault backend; did you mean "fromCp"?' },
      ]),
    );
    const deep = validateResource(vault({ address: 'https://v:8200', auth: { token: { secrets: 't' } }, tls: { skipverify: true } }));
    expect(deep).toEqual([
      { field: 'mtls.backends[0].conf.fromCp.tls.skipverify', message: 'unknown field; did you mean "skipVerify"?' },
      { field: 'mtls.backends[0].conf.fromCp.auth.token.secrets', message: 'unknown field; did you mean "secret"?' },
      { field: 'mtls.backends[0].conf.fromCp.auth.token', message: 'set one of secret, file, inline or inlineString' },
    ]);
  });

  it('lists the known fields when nothing is close', () => {
    expect(validateResource(one({ name: 'a', type: 'builtin', conf: { hsmSlot: 1 } }))).toEqual([
      { field: 'mtls.backends[0].conf.hsmSlot', message: 'unknown field for a builtin backend; remove it (known fields here: caCert)' },
    ]);
  });

  it('but keeps unknown fields outside mtls', () => {
    const input = parseObject({
      type: 'Mesh',
      name: 'm',
      networking: { outbound: { passthrough: false } },
      routing: { zoneEgress: true },
      futureField: 1,
    });
    expect(validateResource(input)).toEqual([]);
    expect(input.spec).toEqual({ networking: { outbound: { passthrough: false } }, routing: { zoneEgress: true }, futureField: 1 });
  });

  it('explains an acm or certManager block on the wrong type', () => {
    expect(
      validateResource(
        one({ name: 'a', type: 'vault', certManager: { issuerName: 'x' }, conf: { fromCp: { address: 'http://v', auth: TOKEN } } }),
      ),
    ).toEqual([
      {
        field: 'mtls.backends[0].certManager',
        message: 'only a backend of type cert-manager takes this block; set that type or move the settings to conf',
      },
    ]);
  });
});

describe('builtin and provided', () => {
  it('checks caCert.RSAbits and caCert.expiration', () => {
    expect(validateResource(one({ name: 'a', type: 'builtin', conf: { caCert: { RSAbits: 4096, expiration: '10y' } } }))).toEqual([]);
    expect(validateResource(one({ name: 'a', type: 'builtin', conf: { caCert: { RSAbits: 1024, expiration: '10 years' } } }))).toEqual([
      { field: 'mtls.backends[0].conf.caCert.RSAbits', message: 'must be 2048, 3072 or 4096 (got number 1024)' },
      { field: 'mtls.backends[0].conf.caCert.expiration', message: expect.stringContaining('"10 years" is not a duration') },
    ]);
  });

  it('requires cert and key DataSources', () => {
    expect(validateResource(one({ name: 'a', type: 'provided', conf: { cert: { file: '/ca.pem' } } }))).toEqual([
      { field: 'mtls.backends[0].conf.key', message: 'required; give the CA private key (PEM) as secret, file, inline or inlineString' },
    ]);
  });
});

describe('DataSource', () => {
  const ds = (cert: unknown) => validateResource(one({ name: 'a', type: 'provided', conf: { cert, key: { secret: 'k' } } }));
  it('accepts each of the four kinds', () => {
    for (const cert of [{ secret: 'c' }, { file: '/c.pem' }, { inline: Buffer.from('pem').toString('base64') }, { inlineString: 'pem' }]) {
      expect(ds(cert)).toEqual([]);
    }
  });
  it('requires exactly one kind', () => {
    expect(ds({ secret: 'c', file: '/c' })).toEqual([
      {
        field: 'mtls.backends[0].conf.cert',
        message: 'set exactly one of secret, file, inline or inlineString, not secret and file (keep one, remove the others)',
      },
    ]);
    expect(ds({})).toEqual([{ field: 'mtls.backends[0].conf.cert', message: 'set one of secret, file, inline or inlineString' }]);
    expect(ds('c')).toEqual([
      {
        field: 'mtls.backends[0].conf.cert',
        message: 'must be a mapping with one of secret, file, inline or inlineString (got the text "c")',
      },
    ]);
  });
  it('checks inline is base64 without echoing it', () => {
    const errors = ds({ inline: '-----BEGIN PRIVATE KEY-----' });
    expect(errors).toEqual([
      {
        field: 'mtls.backends[0].conf.cert.inline',
        message: 'is not valid base64; encode the content with base64, or use inlineString for plain text',
      },
    ]);
    expect(JSON.stringify(errors)).not.toContain('PRIVATE');
  });
  it('checks a secret reference is a valid name', () => {
    expect(fields(ds({ secret: 'Not Valid' }))).toEqual(['mtls.backends[0].conf.cert.secret']);
  });
});

describe('vault', () => {
  const base = { address: 'https://vault:8200', auth: TOKEN };
  it('accepts token or tls auth, and every fromCp field', () => {
    expect(validateResource(vault(base))).toEqual([]);
    expect(
      validateResource(
        vault({
          address: 'https://vault.8200',
          agentAddress: '',
          namespace: 'ns',
          pki: 'kmesh-pki-default',
          role: 'dataplane-proxies',
          commonName: '{{ tag "kuma.io/service" }}.mesh',
          tls: { caCert: { secret: 's' }, skipVerify: false, serverName: 'vault' },
          auth: { tls: { clientKey: { secret: 'k' }, clientCert: { file: '/c.pem' } } },
        }),
      ),
    ).toEqual([]);
  });
  it('requires exactly one of token or tls', () => {
    expect(
      validateResource(vault({ ...base, auth: { ...TOKEN, tls: { clientKey: { secret: 'k' }, clientCert: { secret: 'c' } } } })),
    ).toEqual([
      {
        field: 'mtls.backends[0].conf.fromCp.auth',
        message: 'set exactly one of token or tls, not both (remove tls to use the token, or remove token to use client certificates)',
      },
    ]);
    expect(validateResource(vault({ ...base, auth: {} }))).toEqual([
      {
        field: 'mtls.backends[0].conf.fromCp.auth',
        message: 'set one of token (a Vault token DataSource) or tls (clientKey and clientCert)',
      },
    ]);
    expect(validateResource(vault({ address: base.address }))).toEqual([
      { field: 'mtls.backends[0].conf.fromCp.auth', message: 'required; set auth.token or auth.tls (clientKey and clientCert)' },
    ]);
  });
  it('requires both client key and certificate for tls auth', () => {
    expect(fields(validateResource(vault({ ...base, auth: { tls: { clientKey: { secret: 'k' } } } })))).toEqual([
      'mtls.backends[0].conf.fromCp.auth.tls.clientCert',
    ]);
  });
  it('requires fromCp and an http(s) address', () => {
    expect(validateResource(one({ name: 'v', type: 'vault', conf: {} }))).toEqual([
      { field: 'mtls.backends[0].conf.fromCp', message: 'required; add fromCp with address and auth (the control plane talks to Vault)' },
    ]);
    expect(validateResource(vault({ ...base, address: 'vault:8200' }))).toEqual([
      {
        field: 'mtls.backends[0].conf.fromCp.address',
        message: 'the text "vault:8200" is not an http(s) URL; write it like https://vault.example.com:8200',
      },
    ]);
    expect(fields(validateResource(vault({ auth: TOKEN })))).toEqual(['mtls.backends[0].conf.fromCp.address']);
    expect(fields(validateResource(vault({ ...base, agentAddress: 'not a url', tls: { skipVerify: 'no' } })))).toEqual([
      'mtls.backends[0].conf.fromCp.agentAddress',
      'mtls.backends[0].conf.fromCp.tls.skipVerify',
    ]);
  });
});

describe('acmpca', () => {
  const ARN = 'arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/12345678-1234-1234-1234-123456789012';
  const acm = (conf: Record<string, unknown>) => one({ name: 'a', type: 'acmpca', conf });
  it('accepts the full conf and the default credential chain', () => {
    expect(validateResource(acm({ arn: ARN }))).toEqual([]);
    expect(
      validateResource(
        acm({
          arn: ARN,
          commonName: 'x',
          caCert: { secret: 's' },
          auth: { awsCredentials: { accessKey: { secret: 'a' }, accessKeySecret: { file: '/k' } } },
        }),
      ),
    ).toEqual([]);
  });
  it('requires an ARN shaped like an ACM PCA ARN', () => {
    expect(validateResource(acm({}))).toEqual([
      { field: 'mtls.backends[0].conf.arn', message: 'required; give the ARN of the ACM private CA' },
    ]);
    expect(validateResource(acm({ arn: 'arn:aws:acm:eu-west-1:1:certificate/x' }))).toEqual([
      {
        field: 'mtls.backends[0].conf.arn',
        message:
          'the text "arn:aws:acm:eu-west-1:1:certificate/x" is not an ACM Private CA ARN; copy it from AWS, shaped like arn:aws:acm-pca:<region>:<account>:certificate-authority/<id>',
      },
    ]);
  });
  it('requires both AWS credentials when auth is set', () => {
    expect(fields(validateResource(acm({ arn: ARN, auth: { awsCredentials: { accessKey: { secret: 'a' } } } })))).toEqual([
      'mtls.backends[0].conf.auth.awsCredentials.accessKeySecret',
    ]);
    expect(fields(validateResource(acm({ arn: ARN, auth: {} })))).toEqual(['mtls.backends[0].conf.auth.awsCredentials']);
  });
  it('normalises type: acm with an acm: block', () => {
    const input = parseObject({
      type: 'Mesh',
      name: 'm',
      mtls: { enabledBackend: 'a', backends: [{ name: 'a', type: 'acm', acm: { arn: ARN } }] },
    });
    expect(input.spec).toEqual({ mtls: { enabledBackend: 'a', backends: [{ name: 'a', type: 'acmpca', conf: { arn: ARN } }] } });
    expect(validateResource(input)).toEqual([]);
  });
});

describe('cert-manager', () => {
  it('reads certManager: as conf and requires issuerName', () => {
    const input = parseObject({
      type: 'Mesh',
      name: 'm',
      mtls: { backends: [{ name: 'c', type: 'cert-manager', certManager: { issuerKind: 'Issuer', issuerGroup: 'cert-manager.io' } }] },
    });
    expect(validateResource(input)).toEqual([
      { field: 'mtls.backends[0].conf.issuerName', message: 'required; name the cert-manager Issuer or ClusterIssuer' },
    ]);
  });
});
