// Contract tests for ACM PCA, written once and run against moto (which nobody here wrote)
// and against our test server, so the test server is held to moto where moto is faithful.
// Everything goes through the real @aws-sdk/client-acm-pca with an endpoint override.
import {
  CreateCertificateAuthorityCommand,
  DescribeCertificateAuthorityCommand,
  GetCertificateAuthorityCertificateCommand,
  GetCertificateAuthorityCsrCommand,
  GetCertificateCommand,
  ImportCertificateAuthorityCertificateCommand,
  IssueCertificateCommand,
  type ACMPCAClient,
} from '@aws-sdk/client-acm-pca';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExternalRoot, type ExternalRoot } from '../servers/acmpca/index.js';
import { x509 } from '../servers/acmpca/x509.js';
import { errorName, makeClient, makeLeafCsr, pollCertificate, splitPem, uriSans } from './helpers.js';
import { PEERS, type Peer } from './peers.js';

const UNKNOWN_CA = 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/00000000-0000-4000-8000-000000000000';
const END_ENTITY = 'arn:aws:acm-pca:::template/EndEntityCertificate/V1';

describe.each(PEERS)('ACM PCA contract: $name', (peerDef) => {
  let peer: Peer;
  let client: ACMPCAClient;
  let root: ExternalRoot;
  let caArn = '';
  let caCertPem = '';

  beforeAll(async () => {
    peer = await peerDef.start();
    client = makeClient(peer.client);
    root = await createExternalRoot();
  });
  afterAll(async () => {
    client?.destroy();
    await peer?.stop();
  });

  it('creates a subordinate CA that waits for its certificate', async () => {
    const out = await client.send(
      new CreateCertificateAuthorityCommand({
        CertificateAuthorityType: 'SUBORDINATE',
        CertificateAuthorityConfiguration: {
          KeyAlgorithm: 'RSA_2048',
          SigningAlgorithm: 'SHA256WITHRSA',
          Subject: { CommonName: 'contract CA', Organization: 'meshca' },
        },
      }),
    );
    expect(out.CertificateAuthorityArn).toMatch(/^arn:aws:acm-pca:us-east-1:\d{12}:certificate-authority\/[0-9a-f-]{36}$/);
    caArn = out.CertificateAuthorityArn!;
    const d = await client.send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: caArn }));
    expect(d.CertificateAuthority?.Status).toBe('PENDING_CERTIFICATE');
    expect(d.CertificateAuthority?.Type).toBe('SUBORDINATE');
    expect(d.CertificateAuthority?.CreatedAt).toBeInstanceOf(Date);
  });

  it('refuses to return a CA certificate before one is imported', async () => {
    expect(await errorName(client.send(new GetCertificateAuthorityCertificateCommand({ CertificateAuthorityArn: caArn })))).toBe(
      'InvalidStateException',
    );
  });

  it('gives the CA CSR, which an external root signs and the CA imports (then ACTIVE)', async () => {
    const { Csr } = await client.send(new GetCertificateAuthorityCsrCommand({ CertificateAuthorityArn: caArn }));
    const csr = new x509.Pkcs10CertificateRequest(Csr!);
    expect(await csr.verify()).toBe(true);
    expect(csr.subject).toContain('CN=contract CA');
    caCertPem = await root.signCaCsr(Csr!);
    await client.send(
      new ImportCertificateAuthorityCertificateCommand({
        CertificateAuthorityArn: caArn,
        Certificate: Buffer.from(caCertPem),
        CertificateChain: Buffer.from(root.certPem),
      }),
    );
    const d = await client.send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: caArn }));
    expect(d.CertificateAuthority?.Status).toBe('ACTIVE');
    const imported = new x509.X509Certificate(caCertPem);
    expect(d.CertificateAuthority?.NotAfter?.getTime()).toBe(imported.notAfter.getTime());
  });

  it('returns the CA certificate and the chain above it', async () => {
    const out = await client.send(new GetCertificateAuthorityCertificateCommand({ CertificateAuthorityArn: caArn }));
    expect(new x509.X509Certificate(out.Certificate!).equal(new x509.X509Certificate(caCertPem))).toBe(true);
    const chain = splitPem(out.CertificateChain ?? '');
    expect(chain.map((c) => c.subject)).toEqual([new x509.X509Certificate(root.certPem).subject]);
  });

  it('issues a certificate for a CSR; the CA signs it and the URI SANs come from the CSR', async () => {
    const uris = ['spiffe://default/backend', 'kuma://kuma.io/zone/zone-1'];
    const leaf = await makeLeafCsr({ commonName: 'backend', uris });
    const { CertificateArn } = await client.send(
      new IssueCertificateCommand({
        CertificateAuthorityArn: caArn,
        Csr: Buffer.from(leaf.csrPem),
        SigningAlgorithm: 'SHA256WITHRSA',
        TemplateArn: END_ENTITY,
        Validity: { Type: 'DAYS', Value: 1 },
      }),
    );
    expect(CertificateArn?.startsWith(`${caArn}/certificate/`)).toBe(true);
    const got = await pollCertificate(client, caArn, CertificateArn!);
    const cert = new x509.X509Certificate(got.certificate);
    const ca = new x509.X509Certificate(caCertPem);
    expect(cert.issuer).toBe(ca.subject);
    expect(await cert.verify({ publicKey: ca.publicKey, signatureOnly: true })).toBe(true);
    expect(Buffer.from(cert.publicKey.rawData).equals(leaf.publicKeySpki)).toBe(true);
    // EndEntityCertificate/V1: "Subject alternative name [Passthrough from CSR]" (AWS template definitions).
    expect(uriSans(cert).sort()).toEqual([...uris].sort());
    expect(cert.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(false);
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    // The chain starts at the issuing CA (moto stops there; AWS and the test server go on to the root).
    expect(splitPem(got.chain)[0]?.equal(ca)).toBe(true);
  });

  it('answers ResourceNotFoundException for a well-formed but unknown CA ARN', async () => {
    expect(await errorName(client.send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: UNKNOWN_CA })))).toBe(
      'ResourceNotFoundException',
    );
    const leaf = await makeLeafCsr({ commonName: 'x' });
    expect(
      await errorName(
        client.send(
          new IssueCertificateCommand({
            CertificateAuthorityArn: UNKNOWN_CA,
            Csr: Buffer.from(leaf.csrPem),
            SigningAlgorithm: 'SHA256WITHRSA',
            Validity: { Type: 'DAYS', Value: 1 },
          }),
        ),
      ),
    ).toBe('ResourceNotFoundException');
    expect(await errorName(client.send(new GetCertificateAuthorityCertificateCommand({ CertificateAuthorityArn: UNKNOWN_CA })))).toBe(
      'ResourceNotFoundException',
    );
  });

  it('answers ResourceNotFoundException for GetCertificate on an unknown CA', async () => {
    expect(
      await errorName(
        client.send(new GetCertificateCommand({ CertificateAuthorityArn: UNKNOWN_CA, CertificateArn: `${UNKNOWN_CA}/certificate/01` })),
      ),
    ).toBe('ResourceNotFoundException');
  });
});
