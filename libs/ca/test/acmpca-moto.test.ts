// The acmpca backend against moto (moto_server, which nobody here wrote): the SDK wire contract,
// the CA lifecycle and what moto is faithful about — it copies the CSR's subject and SANs (so
// the identity arrives even though moto ignores ApiPassthrough), returns the chain and the CA
// certificate, answers ResourceNotFound and InvalidState. It ignores Validity (365 days) and
// SigningAlgorithm, so lifetime is only checked as "at least what was asked".
import {
  ACMPCAClient,
  CreateCertificateAuthorityCommand,
  GetCertificateAuthorityCsrCommand,
  ImportCertificateAuthorityCertificateCommand,
} from '@aws-sdk/client-acm-pca';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isIssuedBy, parseCertificate, verifyKeyMatchesCert } from '@meshca/pki';
import { CaError, identityUriSans } from '../src/index.js';
import { openAcmPcaBackend } from '../src/acmpca/index.js';
import { startMoto, type MotoServer } from '../../../test/servers/moto.js';
import { createExternalRoot } from '../../../test/servers/acmpca/index.js';
import { acmpcaContext, storeWithSecrets, webIdentity } from './acmpca-helpers.js';

describe('acmpca backend against moto', () => {
  let moto: MotoServer;
  let client: ACMPCAClient;
  let arn = '';
  let pendingArn = '';
  let caCertPem = '';
  let rootPem = '';

  async function createCa(importCert: boolean): Promise<string> {
    const out = await client.send(
      new CreateCertificateAuthorityCommand({
        CertificateAuthorityType: 'SUBORDINATE',
        CertificateAuthorityConfiguration: {
          KeyAlgorithm: 'RSA_2048',
          SigningAlgorithm: 'SHA256WITHRSA',
          Subject: { CommonName: 'moto CA', Organization: 'meshca' },
        },
      }),
    );
    const caArn = out.CertificateAuthorityArn!;
    if (!importCert) return caArn;
    const { Csr } = await client.send(new GetCertificateAuthorityCsrCommand({ CertificateAuthorityArn: caArn }));
    const root = await createExternalRoot('moto external root');
    caCertPem = await root.signCaCsr(Csr!, { days: 3650 });
    rootPem = root.certPem;
    await client.send(
      new ImportCertificateAuthorityCertificateCommand({
        CertificateAuthorityArn: caArn,
        Certificate: Buffer.from(caCertPem),
        CertificateChain: Buffer.from(root.certPem),
      }),
    );
    return caArn;
  }

  async function open(caArn: string) {
    const store = await storeWithSecrets({ ak: moto.credentials.accessKeyId, sk: moto.credentials.secretAccessKey });
    return openAcmPcaBackend(
      acmpcaContext(store, {
        arn: caArn,
        commonName: '{{ tag "kuma.io/service" }}.mesh',
        auth: { awsCredentials: { accessKey: { secret: 'ak' }, accessKeySecret: { secret: 'sk' } } },
      }),
      { endpoint: moto.endpoint },
    );
  }

  beforeAll(async () => {
    moto = await startMoto();
    client = new ACMPCAClient({ endpoint: moto.endpoint, region: moto.region, credentials: moto.credentials, maxAttempts: 1 });
    arn = await createCa(true);
    pendingArn = await createCa(false);
  });
  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });

  it('issues through the backend: identity, key, chain and roots as moto answers them', async () => {
    const ca = await open(arn);
    try {
      const out = await ca.issue({ identity: webIdentity, ttlSeconds: 24 * 3600 });
      const leaf = parseCertificate(out.certChainPem);
      expect(leaf.uriSans).toEqual(identityUriSans(webIdentity));
      expect(leaf.commonName).toBe('web.mesh');
      expect(verifyKeyMatchesCert(leaf.pem, out.keyPem!)).toBe(true);
      expect(leaf.notAfter.getTime()).toBeGreaterThanOrEqual(Date.now() + 24 * 3_600_000 - 5 * 60_000);
      expect(isIssuedBy(leaf.pem, caCertPem)).toBe(true);
      const roots = await ca.roots();
      expect(parseCertificate(roots[0]!).fingerprint256).toBe(parseCertificate(caCertPem).fingerprint256);
      expect(roots.map((r) => parseCertificate(r).fingerprint256)).toContain(parseCertificate(rootPem).fingerprint256);
      expect(await ca.health()).toMatchObject({ ok: true });
    } finally {
      await ca.close();
    }
  });

  it("refuses an unknown CA with moto's ResourceNotFoundException", async () => {
    const ca = await open(arn.replace(/[0-9a-f]{8}-/, '00000000-'));
    try {
      const err = await ca.issue({ identity: webIdentity, ttlSeconds: 3600 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CaError);
      expect((err as CaError).message).toMatch(
        /^acmpca backend "acmpca-1": ACM PCA in region us-east-1 has no certificate authority \S+ \(ResourceNotFoundException/,
      );
    } finally {
      await ca.close();
    }
  });

  it('reports a CA waiting for its certificate as not active', async () => {
    const ca = await open(pendingArn);
    try {
      const err = await ca.issue({ identity: webIdentity, ttlSeconds: 3600 }).catch((e: unknown) => e);
      expect((err as CaError).message).toBe(
        `acmpca backend "acmpca-1": certificate authority ${pendingArn} is PENDING_CERTIFICATE, not ACTIVE; import its CA certificate or point conf.arn at an active CA`,
      );
      expect(await ca.health()).toMatchObject({
        ok: false,
        reason: `certificate authority ${pendingArn} is PENDING_CERTIFICATE, not ACTIVE`,
      });
      await expect(ca.roots()).rejects.toThrow(/is PENDING_CERTIFICATE, not ACTIVE \(InvalidStateException/);
    } finally {
      await ca.close();
    }
  });
});
