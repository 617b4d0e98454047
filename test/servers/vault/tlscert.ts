import type { webcrypto } from 'node:crypto';
import { KeyObject } from 'node:crypto';
import { generateKeys, pemOf, x509 } from './pki/x509.js';
// WebCrypto types from Node's own definitions (the DOM lib is not loaded).
type EcdsaParams = webcrypto.EcdsaParams;

export interface ListenerTls {
  caCertPem: string;
  certPem: string;
  keyPem: string;
}

/** A throwaway CA and a server certificate for 127.0.0.1 / localhost, like `vault server -dev-tls` makes. */
export async function makeListenerTls(): Promise<ListenerTls> {
  const spec = { type: 'ec' as const, bits: 256 };
  const caKeys = await generateKeys(spec);
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 24 * 3600_000);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=vault-test-server listener CA',
    keys: caKeys,
    notBefore,
    notAfter,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const keys = await generateKeys(spec);
  const leaf = await x509.X509CertificateGenerator.create({
    subject: 'CN=localhost',
    issuer: ca.subjectName,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'dns', value: 'localhost' },
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const keyPem = String(KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }));
  return { caCertPem: pemOf(ca), certPem: pemOf(leaf), keyPem };
}
