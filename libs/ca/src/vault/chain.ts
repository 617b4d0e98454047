import { X509Certificate } from 'node:crypto';

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Every certificate block in `text`, normalised to end with a newline. */
export function splitCertificates(text: string): string[] {
  return [...text.matchAll(PEM_CERT)].map((m) => `${m[0]}\n`);
}

export function isSelfSigned(pem: string): boolean {
  const x = new X509Certificate(pem);
  return x.checkIssued(x) && x.verify(x.publicKey);
}

/** Distinct certificates in order of first appearance. */
export function dedupe(pems: string[]): string[] {
  const seen = new Set<string>();
  return pems.filter((p) => {
    const fp = new X509Certificate(p).fingerprint256;
    if (seen.has(fp)) return false;
    seen.add(fp);
    return true;
  });
}
