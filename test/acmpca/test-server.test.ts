// Behaviour moto does not model (it ignores ApiPassthrough, Validity, SigningAlgorithm and
// IdempotencyToken, has no RequestInProgress window, no throttling, no auth), checked on the
// test server only. Each case cites the AWS documentation it follows.
import {
  DescribeCertificateAuthorityCommand,
  ImportCertificateAuthorityCertificateCommand,
  IssueCertificateCommand,
  UpdateCertificateAuthorityCommand,
  type ACMPCAClient,
  type IssueCertificateCommandInput,
} from '@aws-sdk/client-acm-pca';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExternalRoot, startAcmPcaServer, type AcmPcaServer } from '../servers/acmpca/index.js';
import { x509 } from '../servers/acmpca/x509.js';
import { errorName, makeClient, makeLeafCsr, pollCertificate, splitPem, uriSans } from './helpers.js';

const T = (name: string): string => `arn:aws:acm-pca:::template/${name}/V1`;
const SPIFFE = 'spiffe://default/backend';

async function issue(
  client: ACMPCAClient,
  input: Partial<IssueCertificateCommandInput> & { CertificateAuthorityArn: string },
): Promise<x509.X509Certificate> {
  const leaf = await makeLeafCsr({ commonName: 'backend', uris: [SPIFFE] });
  const { CertificateArn } = await client.send(
    new IssueCertificateCommand({
      Csr: Buffer.from(leaf.csrPem),
      SigningAlgorithm: 'SHA256WITHECDSA',
      Validity: { Type: 'DAYS', Value: 1 },
      ...input,
    }),
  );
  return new x509.X509Certificate((await pollCertificate(client, input.CertificateAuthorityArn, CertificateArn!)).certificate);
}

describe('ACM PCA test server (what moto skips)', () => {
  let server: AcmPcaServer;
  let client: ACMPCAClient;
  let ecCa = '';

  beforeAll(async () => {
    server = await startAcmPcaServer();
    client = makeClient(server);
    ecCa = await server.createCa({ keyAlgorithm: 'EC_prime256v1', commonName: 'ec CA' });
  });
  afterAll(async () => {
    client?.destroy();
    await server?.stop();
  });

  describe('templates (AWS "template definitions" and "template order of operations")', () => {
    it('EndEntityCertificate/V1 copies the CSR SAN but ignores ApiPassthrough', async () => {
      // Base templates: "Subject alternative name [Passthrough from CSR]"; ApiPassthrough is
      // "ignored" unless an APIPassthrough or APICSRPassthrough variant is selected.
      const cert = await issue(client, {
        CertificateAuthorityArn: ecCa,
        TemplateArn: T('EndEntityCertificate'),
        ApiPassthrough: { Extensions: { SubjectAlternativeNames: [{ UniformResourceIdentifier: 'spiffe://default/other' }] } },
      });
      expect(uriSans(cert)).toEqual([SPIFFE]);
    });

    it('EndEntityCertificate_APIPassthrough/V1 takes URI SANs from ApiPassthrough over the CSR', async () => {
      // "Subject alternative name [Passthrough from API or CSR]"; API passthrough values take
      // priority over CSR values (order of operations, example 2).
      const api = ['spiffe://default/web', 'kuma://kuma.io/zone/zone-2'];
      const cert = await issue(client, {
        CertificateAuthorityArn: ecCa,
        TemplateArn: T('EndEntityCertificate_APIPassthrough'),
        ApiPassthrough: {
          Extensions: { SubjectAlternativeNames: api.map((UniformResourceIdentifier) => ({ UniformResourceIdentifier })) },
          Subject: { CommonName: 'from-api' },
        },
      });
      expect(uriSans(cert)).toEqual(api);
      expect(cert.subject).toBe('CN=from-api');
    });

    it('EndEntityCertificate_APIPassthrough/V1 without ApiPassthrough SANs falls back to the CSR SAN', async () => {
      const cert = await issue(client, { CertificateAuthorityArn: ecCa, TemplateArn: T('EndEntityCertificate_APIPassthrough') });
      expect(uriSans(cert)).toEqual([SPIFFE]);
    });

    it('CSRPassthrough copies other CSR extensions; the template keeps its own key usage', async () => {
      // "passes additional extensions from the CSR into the certificate if the extensions are
      // not specified in the template. Extensions specified in the template always override".
      const custom = new x509.Extension('1.3.6.1.4.1.55555.1', false, new Uint8Array([0x05, 0x00]));
      const ku = new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true);
      const leaf = await makeLeafCsr({ commonName: 'x', uris: [SPIFFE], extensions: [custom, ku] });
      const issueWith = async (template: string): Promise<x509.X509Certificate> => {
        const { CertificateArn } = await client.send(
          new IssueCertificateCommand({
            CertificateAuthorityArn: ecCa,
            Csr: Buffer.from(leaf.csrPem),
            SigningAlgorithm: 'SHA256WITHECDSA',
            TemplateArn: T(template),
            Validity: { Type: 'DAYS', Value: 1 },
          }),
        );
        return new x509.X509Certificate((await pollCertificate(client, ecCa, CertificateArn!)).certificate);
      };
      const passthrough = await issueWith('EndEntityCertificate_CSRPassthrough');
      expect(passthrough.getExtension('1.3.6.1.4.1.55555.1')).not.toBeNull();
      expect(passthrough.getExtension(x509.KeyUsagesExtension)?.usages).toBe(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      );
      const base = await issueWith('EndEntityCertificate');
      expect(base.getExtension('1.3.6.1.4.1.55555.1')).toBeNull();
    });

    it('refuses a template it does not serve with InvalidArgsException', async () => {
      expect(await errorName(issue(client, { CertificateAuthorityArn: ecCa, TemplateArn: T('CodeSigningCertificate') }))).toBe(
        'InvalidArgsException',
      );
    });
  });

  describe('Validity (API reference: Validity data type)', () => {
    it('DAYS counts from issuance; notBefore is back-dated 60 minutes', async () => {
      // "ValidityNotBefore ... By default, the value is the issuance time minus 60 minutes."
      const before = Date.now();
      const cert = await issue(client, { CertificateAuthorityArn: ecCa, Validity: { Type: 'DAYS', Value: 2 } });
      const after = Date.now();
      const slack = 1000; // X.509 times have one-second resolution
      expect(cert.notAfter.getTime()).toBeGreaterThanOrEqual(before + 2 * 86_400_000 - slack);
      expect(cert.notAfter.getTime()).toBeLessThanOrEqual(after + 2 * 86_400_000);
      expect(cert.notBefore.getTime()).toBeGreaterThanOrEqual(before - 3_600_000 - slack);
      expect(cert.notBefore.getTime()).toBeLessThanOrEqual(after - 3_600_000);
    });

    it('ABSOLUTE and END_DATE set the exact expiry', async () => {
      const end = Math.floor(Date.now() / 1000) + 7200;
      const abs = await issue(client, { CertificateAuthorityArn: ecCa, Validity: { Type: 'ABSOLUTE', Value: end } });
      expect(abs.notAfter.getTime()).toBe(end * 1000);
      const d = new Date(end * 1000);
      const p = (n: number): string => String(n).padStart(2, '0');
      const generalized = `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
      const endDate = await issue(client, { CertificateAuthorityArn: ecCa, Validity: { Type: 'END_DATE', Value: Number(generalized) } });
      expect(endDate.notAfter.getTime()).toBe(end * 1000);
    });

    it('has no HOURS type: an unknown type is a ValidationException', async () => {
      // ValidityPeriodType is END_DATE | ABSOLUTE | DAYS | MONTHS | YEARS.
      const err = await issue(client, { CertificateAuthorityArn: ecCa, Validity: { Type: 'HOURS' as never, Value: 24 } }).catch(
        (e: Error) => e,
      );
      expect((err as Error).name).toBe('ValidationException');
      expect((err as Error).message).toContain('validity.type');
    });

    it('refuses a validity past the CA certificate (InvalidArgsException)', async () => {
      // "The end of the validity period configured on a certificate must not exceed the limit set on its parents".
      expect(await errorName(issue(client, { CertificateAuthorityArn: ecCa, Validity: { Type: 'YEARS', Value: 5 } }))).toBe(
        'InvalidArgsException',
      );
    });
  });

  it('refuses a signing algorithm of the wrong family for the CA key', async () => {
    // "The specified signing algorithm family (RSA or ECDSA) must match the algorithm family of the CA's secret key."
    const err = (await issue(client, { CertificateAuthorityArn: ecCa, SigningAlgorithm: 'SHA256WITHRSA' }).catch((e: Error) => e)) as Error;
    expect(err.name).toBe('InvalidArgsException');
    expect(err.message).toContain('SHA256WITHRSA cannot be used with key type EC_prime256v1');
  });

  it('signs with an RSA CA key when asked for SHA384WITHRSA', async () => {
    const rsaCa = await server.createCa({ keyAlgorithm: 'RSA_2048', commonName: 'rsa CA' });
    const cert = await issue(client, { CertificateAuthorityArn: rsaCa, SigningAlgorithm: 'SHA384WITHRSA' });
    expect(cert.signatureAlgorithm).toMatchObject({ name: 'RSASSA-PKCS1-v1_5', hash: { name: 'SHA-384' } });
  });

  it('answers MalformedCSRException for bytes that are not a CSR', async () => {
    const err = client.send(
      new IssueCertificateCommand({
        CertificateAuthorityArn: ecCa,
        Csr: Buffer.from('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n'),
        SigningAlgorithm: 'SHA256WITHECDSA',
        Validity: { Type: 'DAYS', Value: 1 },
      }),
    );
    expect(await errorName(err)).toBe('MalformedCSRException');
  });

  it('answers InvalidArnException for a malformed ARN', async () => {
    expect(await errorName(client.send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: 'not-an-arn' })))).toBe(
      'InvalidArnException',
    );
  });

  it('issues one certificate per IdempotencyToken', async () => {
    // "If you make multiple calls with the same idempotency token within five minutes, AWS Private CA ... will issue only one."
    const leaf = await makeLeafCsr({ commonName: 'idem' });
    const send = (token: string): Promise<string | undefined> =>
      client
        .send(
          new IssueCertificateCommand({
            CertificateAuthorityArn: ecCa,
            Csr: Buffer.from(leaf.csrPem),
            SigningAlgorithm: 'SHA256WITHECDSA',
            Validity: { Type: 'DAYS', Value: 1 },
            IdempotencyToken: token,
          }),
        )
        .then((o) => o.CertificateArn);
    const a = await send('token-a');
    expect(await send('token-a')).toBe(a);
    expect(await send('token-b')).not.toBe(a);
  });

  it('refuses issuance while the CA is DISABLED (InvalidStateException) and resumes when ACTIVE', async () => {
    const ca = await server.createCa({ commonName: 'toggled CA' });
    await client.send(new UpdateCertificateAuthorityCommand({ CertificateAuthorityArn: ca, Status: 'DISABLED' }));
    expect(await errorName(issue(client, { CertificateAuthorityArn: ca }))).toBe('InvalidStateException');
    await client.send(new UpdateCertificateAuthorityCommand({ CertificateAuthorityArn: ca, Status: 'ACTIVE' }));
    expect(uriSans(await issue(client, { CertificateAuthorityArn: ca }))).toEqual([SPIFFE]);
  });

  it('refuses issuance from a CA whose certificate is not imported yet', async () => {
    const pending = await server.createCa({ pending: true });
    expect(await errorName(issue(client, { CertificateAuthorityArn: pending }))).toBe('InvalidStateException');
  });

  it('returns the chain up to the external root for an issued certificate', async () => {
    const leaf = await makeLeafCsr({ commonName: 'chain', uris: [SPIFFE] });
    const { CertificateArn } = await client.send(
      new IssueCertificateCommand({
        CertificateAuthorityArn: ecCa,
        Csr: Buffer.from(leaf.csrPem),
        SigningAlgorithm: 'SHA256WITHECDSA',
        Validity: { Type: 'DAYS', Value: 1 },
      }),
    );
    const got = await pollCertificate(client, ecCa, CertificateArn!);
    const chain = await new x509.X509ChainBuilder({ certificates: splitPem(got.chain) }).build(new x509.X509Certificate(got.certificate));
    expect(chain.map((c) => c.subject)).toEqual(['CN=chain', 'O=meshca, CN=ec CA', 'CN=ec CA root']);
    expect(new x509.X509Certificate(server.rootPem(ecCa)!).equal(chain[2]!)).toBe(true);
  });

  it('refuses to import a CA certificate for another key (CertificateMismatchException)', async () => {
    const pending = await server.createCa({ pending: true });
    const other = await server.createCa({ pending: true });
    const root = await createExternalRoot();
    const { GetCertificateAuthorityCsrCommand } = await import('@aws-sdk/client-acm-pca');
    const { Csr } = await client.send(new GetCertificateAuthorityCsrCommand({ CertificateAuthorityArn: other }));
    const wrong = await root.signCaCsr(Csr!);
    const err = client.send(
      new ImportCertificateAuthorityCertificateCommand({
        CertificateAuthorityArn: pending,
        Certificate: Buffer.from(wrong),
        CertificateChain: Buffer.from(root.certPem),
      }),
    );
    expect(await errorName(err)).toBe('CertificateMismatchException');
  });
});

describe('ACM PCA test server: GetCertificate while issuance is in progress', () => {
  it('answers RequestInProgressException until the certificate is ready', async () => {
    const server = await startAcmPcaServer({ issueDelayMs: 400 });
    const client = makeClient(server);
    try {
      const ca = await server.createCa();
      const leaf = await makeLeafCsr({ commonName: 'slow' });
      const { CertificateArn } = await client.send(
        new IssueCertificateCommand({
          CertificateAuthorityArn: ca,
          Csr: Buffer.from(leaf.csrPem),
          SigningAlgorithm: 'SHA256WITHECDSA',
          Validity: { Type: 'DAYS', Value: 1 },
        }),
      );
      const got = await pollCertificate(client, ca, CertificateArn!, { delayMs: 50 });
      expect(got.inProgressAnswers).toBeGreaterThan(0);
      expect(new x509.X509Certificate(got.certificate).subject).toBe('CN=slow');
    } finally {
      client.destroy();
      await server.stop();
    }
  });
});

describe('ACM PCA test server: throttling', () => {
  it('answers ThrottlingException past the configured rate', async () => {
    const server = await startAcmPcaServer({ ratePerSecond: 2 });
    const client = makeClient(server); // maxAttempts 1: see the error instead of the SDK's retry
    try {
      const ca = await server.createCa();
      const results = await Promise.all(
        Array.from({ length: 8 }, () => errorName(client.send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: ca })))),
      );
      expect(results).toContain('ThrottlingException');
      expect(results).toContain('no error');
      expect(server.stats().throttled).toBe(results.filter((r) => r === 'ThrottlingException').length);
    } finally {
      client.destroy();
      await server.stop();
    }
  });
});

describe('ACM PCA test server: credentials', () => {
  let server: AcmPcaServer;
  beforeAll(async () => {
    server = await startAcmPcaServer({ accessKeyId: 'AKIDGOOD', secretAccessKey: 'good-secret', deniedAccessKeyIds: ['AKIDNOPERM'] });
  });
  afterAll(async () => server?.stop());

  const describeWith = async (accessKeyId: string, secretAccessKey: string): Promise<string> => {
    const client = makeClient({ endpoint: server.endpoint, credentials: { accessKeyId, secretAccessKey } });
    try {
      return await errorName(
        client.send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: await server.createCa({ pending: true }) })),
      );
    } finally {
      client.destroy();
    }
  };

  it('accepts the configured key with a valid SigV4 signature', async () => {
    expect(await describeWith('AKIDGOOD', 'good-secret')).toBe('no error');
    expect(server.stats().accessKeyIds).toContain('AKIDGOOD');
  });
  it('answers UnrecognizedClientException for an unknown access key', async () => {
    expect(await describeWith('AKIDOTHER', 'good-secret')).toBe('UnrecognizedClientException');
  });
  it('answers InvalidSignatureException for the right key with the wrong secret', async () => {
    expect(await describeWith('AKIDGOOD', 'wrong-secret')).toBe('InvalidSignatureException');
  });
  it('answers AccessDeniedException for a key without acm-pca permissions', async () => {
    expect(await describeWith('AKIDNOPERM', 'whatever')).toBe('AccessDeniedException');
  });
});

describe('ACM PCA test server: HTTPS', () => {
  it('serves TLS with a certificate that verifies only against its CA PEM', async () => {
    const server = await startAcmPcaServer({ https: true });
    const trusted = makeClient(server);
    const untrusted = makeClient({ ...server, caCertPem: undefined });
    try {
      expect(server.endpoint.startsWith('https://127.0.0.1:')).toBe(true);
      const ca = await server.createCa();
      const d = await trusted.send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: ca }));
      expect(d.CertificateAuthority?.Status).toBe('ACTIVE');
      const err = (await untrusted
        .send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: ca }))
        .catch((e: Error) => e)) as Error & {
        code?: string;
      };
      expect(err.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    } finally {
      trusted.destroy();
      untrusted.destroy();
      await server.stop();
    }
  });
});
