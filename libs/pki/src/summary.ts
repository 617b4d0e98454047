// A short description of a certificate (names, SANs, validity, fingerprint) read straight from its
// DER: a few microseconds, so a zone can describe every certificate it issues for the GUI and the
// DataplaneInsight (node's X509Certificate takes about 150 µs for the same).
import { createHash } from 'node:crypto';
import { children, content, decodeOid, readTlv, type Tlv } from './der.js';
import { pemBlocks } from './pem.js';
import { OID, readCertificate } from './x509.js';

export interface CertificateSummary {
  /** Distinguished name, RFC 4514 order reversed as OpenSSL prints it: "CN=web, O=meshca"; "" when empty. */
  subject: string;
  issuer: string;
  /** Hex, lower case. */
  serial: string;
  notBefore: string;
  notAfter: string;
  uriSans: string[];
  dnsSans: string[];
  /** SHA-256 of the DER, hex, lower case. */
  sha256: string;
}

const NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
};

/** "CN=x, O=y" from a Name (SEQUENCE OF SET OF AttributeTypeAndValue). */
export function readName(der: Uint8Array): string {
  const name = readTlv(der, 0);
  const parts: string[] = [];
  for (const rdn of children(der, name)) {
    for (const atv of children(der, rdn)) {
      const [type, value] = children(der, atv) as [Tlv, Tlv];
      const key = decodeOid(content(der, type));
      parts.push(`${NAMES[key] ?? key}=${Buffer.from(content(der, value)).toString('utf8')}`);
    }
  }
  return parts.join(', ');
}

export function summarizeCertificateDer(der: Uint8Array): CertificateSummary {
  const raw = readCertificate(der);
  const uriSans: string[] = [];
  const dnsSans: string[] = [];
  const san = raw.extensions.get(OID.subjectAltName);
  if (san) {
    for (const t of children(san.value, readTlv(san.value, 0))) {
      if (t.tag === 0x86) uriSans.push(Buffer.from(content(san.value, t)).toString('ascii'));
      else if (t.tag === 0x82) dnsSans.push(Buffer.from(content(san.value, t)).toString('ascii'));
    }
  }
  return {
    subject: readName(raw.subjectDer),
    issuer: readName(raw.issuerDer),
    serial: Buffer.from(raw.serial).toString('hex'),
    notBefore: raw.notBefore.toISOString(),
    notAfter: raw.notAfter.toISOString(),
    uriSans,
    dnsSans,
    sha256: createHash('sha256').update(der).digest('hex'),
  };
}

/** Every certificate of a PEM chain, in order. */
export function summarizeChain(pem: string): CertificateSummary[] {
  return pemBlocks(pem)
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b) => summarizeCertificateDer(b.der));
}
