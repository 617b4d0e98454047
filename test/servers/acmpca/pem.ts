import { x509 } from './x509.js';

/** Decodes an AWS JSON blob member (base64) into bytes; undefined when not a string. */
export function blob(value: unknown): Buffer | undefined {
  return typeof value === 'string' ? Buffer.from(value, 'base64') : undefined;
}

/** Blob bytes may hold PEM text (what the CLI's fileb:// and most SDK users send) or DER. */
export function parseCertificates(bytes: Buffer): x509.X509Certificate[] {
  const text = bytes.toString('latin1');
  if (text.includes('-----BEGIN')) {
    const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    return blocks.map((b) => new x509.X509Certificate(b));
  }
  return bytes.length ? [new x509.X509Certificate(new Uint8Array(bytes))] : [];
}

export function parseCsr(bytes: Buffer): x509.Pkcs10CertificateRequest {
  const text = bytes.toString('latin1');
  if (text.includes('-----BEGIN')) return new x509.Pkcs10CertificateRequest(text.trim());
  return new x509.Pkcs10CertificateRequest(new Uint8Array(bytes));
}

export const pemOf = (c: x509.X509Certificate): string => c.toString('pem');
export const joinPem = (pems: string[]): string =>
  pems
    .map((p) => p.trim())
    .filter(Boolean)
    .join('\n');
