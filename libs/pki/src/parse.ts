import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { toSpkiDer } from './keys.js';
import { derToPem, pemBlocks, pemToDer } from './pem.js';
import { OID, readCertificate, readKeyIdentifier, readUriSans } from './x509.js';
import { serialHex } from './leaf-signer.js';

export interface ParsedCertificate {
  /** Lower-case hex without leading zeros. */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  isCa: boolean;
  /** OpenSSL-style one-line subject, e.g. "CN=web.mesh"; empty for an empty subject. */
  subject: string;
  commonName?: string;
  issuer: string;
  uriSans: string[];
  publicKey: KeyObject;
  spkiDer: Buffer;
  subjectKeyIdentifier?: string;
  /** SHA-256 fingerprint, colon-separated hex as OpenSSL prints it. */
  fingerprint256: string;
  der: Buffer;
  pem: string;
}

/**
 * SHA-256 of the certificate's DER, lower-case hex without separators: how a dataplane's bundle is
 * named in its DataplaneInsight and compared across zones in the MeshInsight.
 */
export function certificateFingerprint(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

/** The fingerprint of every certificate in a PEM bundle, in order. */
export function bundleFingerprints(bundlePem: string): string[] {
  return pemBlocks(bundlePem)
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b) => createHash('sha256').update(b.der).digest('hex'));
}

export function parseCertificate(pem: string): ParsedCertificate {
  const der = pemToDer(pem, 'CERTIFICATE');
  const raw = readCertificate(der);
  const x = new X509Certificate(der);
  const san = raw.extensions.get(OID.subjectAltName);
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(x.subject ?? '')?.[1];
  const ski = readKeyIdentifier(raw.extensions.get(OID.subjectKeyIdentifier));
  return {
    serial: serialHex(raw.serial),
    notBefore: raw.notBefore,
    notAfter: raw.notAfter,
    isCa: x.ca,
    subject: (x.subject ?? '').split('\n').filter(Boolean).join(', '),
    ...(cn !== undefined ? { commonName: cn } : {}),
    issuer: (x.issuer ?? '').split('\n').filter(Boolean).join(', '),
    uriSans: san ? readUriSans(san.value) : [],
    publicKey: x.publicKey,
    spkiDer: Buffer.from(raw.spkiDer),
    ...(ski ? { subjectKeyIdentifier: ski.toString('hex') } : {}),
    fingerprint256: x.fingerprint256,
    der,
    pem: derToPem(der, 'CERTIFICATE'),
  };
}

/** True when the private key is the one whose public half the certificate carries. */
export function verifyKeyMatchesCert(certPem: string, keyPem: string): boolean {
  const raw = readCertificate(pemToDer(certPem, 'CERTIFICATE'));
  const pub = createPublicKey(createPrivateKey(keyPem));
  return toSpkiDer(pub).equals(raw.spkiDer);
}

/** Each CERTIFICATE block of a PEM bundle, in order, re-encoded canonically. */
export function certificateChainFromPem(text: string): string[] {
  return pemBlocks(text)
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b) => derToPem(b.der, 'CERTIFICATE'));
}

/** True when `certPem` carries a valid signature by the key of `issuerPem` and names it as issuer. */
export function isIssuedBy(certPem: string, issuerPem: string): boolean {
  const cert = new X509Certificate(pemToDer(certPem, 'CERTIFICATE'));
  const issuer = new X509Certificate(pemToDer(issuerPem, 'CERTIFICATE'));
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}
