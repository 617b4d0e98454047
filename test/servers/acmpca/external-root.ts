import { x509 } from './x509.js';
import { subtle } from './keys.js';

/** A root CA outside ACM PCA that signs a private CA's CSR, as an operator's offline root would. */
export interface ExternalRoot {
  certPem: string;
  /** Signs a CA CSR (PEM) into a CA certificate valid for `days` (default 365). */
  signCaCsr(csrPem: string, opts?: { days?: number; pathLength?: number }): Promise<string>;
}

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGN = { name: 'ECDSA', hash: 'SHA-256' };
const DAY = 86_400_000;

export async function createExternalRoot(commonName = 'meshca test external root'): Promise<ExternalRoot> {
  const keys = await subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const now = Date.now();
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: [{ '2.5.4.3': [commonName] }],
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 3650 * DAY),
    keys,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  let serial = 1;
  return {
    certPem: root.toString('pem'),
    async signCaCsr(csrPem, opts = {}) {
      const csr = new x509.Pkcs10CertificateRequest(csrPem);
      serial += 1;
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serial.toString(16).padStart(2, '0'),
        subject: csr.subjectName,
        issuer: root.subjectName,
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + (opts.days ?? 365) * DAY),
        publicKey: csr.publicKey,
        signingKey: keys.privateKey,
        signingAlgorithm: SIGN,
        extensions: [
          new x509.BasicConstraintsExtension(true, opts.pathLength ?? 0, true),
          new x509.KeyUsagesExtension(
            x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
            true,
          ),
          await x509.SubjectKeyIdentifierExtension.create(csr.publicKey),
          await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey),
        ],
      });
      return cert.toString('pem');
    },
  };
}
