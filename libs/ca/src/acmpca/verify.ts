// A CA that answers 200 can still hand back a certificate without the identity (a template that
// ignores ApiPassthrough, a proxy, a misconfigured CA). Such a certificate is refused here, never
// passed on as an identity-less credential.
import { parseCertificate } from '@meshca/pki';
import type { ParsedCertificate } from '@meshca/pki';
import { CaError } from '../errors.js';

/** Back-dating and clock skew a CA may apply without the certificate counting as short. */
export const VALIDITY_SLACK_MS = 5 * 60_000;

export interface Expected {
  backend: string;
  template: string;
  uriSans: string[];
  commonName?: string;
  spkiDer: Buffer;
  /** The end asked for (already capped at the CA's own end). */
  notAfter: Date;
  /** The issuing CA certificate's end, when known. */
  caNotAfter?: Date;
}

const hours = (ms: number): string => `${Math.round((ms / 3_600_000) * 10) / 10}h`;

export function checkIssued(leafPem: string, want: Expected, now = new Date()): ParsedCertificate {
  const fail = (text: string): CaError => new CaError(`acmpca backend "${want.backend}": ${text}`, false);
  let leaf: ParsedCertificate;
  try {
    leaf = parseCertificate(leafPem);
  } catch {
    throw fail('ACM PCA returned a certificate that is not a valid X.509 PEM certificate');
  }
  const missing = want.uriSans.filter((uri) => !leaf.uriSans.includes(uri));
  if (missing.length > 0) {
    throw fail(
      `ACM PCA issued a certificate without the URI SANs ${missing.join(', ')} (template ${want.template}); the CA dropped the dataplane identity — the CA or a template policy must allow API-passthrough subject alternative names`,
    );
  }
  const extra = leaf.uriSans.filter((uri) => !want.uriSans.includes(uri));
  if (extra.length > 0) {
    throw fail(
      `ACM PCA issued a certificate with URI SANs that were not requested: ${extra.join(', ')} (template ${want.template}); refusing it, it would claim another identity`,
    );
  }
  if (!leaf.spkiDer.equals(want.spkiDer)) {
    throw fail(`ACM PCA issued a certificate for another public key than the CSR's (template ${want.template})`);
  }
  if (want.commonName !== undefined && leaf.commonName !== want.commonName) {
    throw fail(
      `ACM PCA issued a certificate with common name "${leaf.commonName ?? ''}" instead of "${want.commonName}" (template ${want.template})`,
    );
  }
  if (leaf.notAfter.getTime() + VALIDITY_SLACK_MS < want.notAfter.getTime()) {
    throw fail(
      `ACM PCA issued a certificate valid for ${hours(leaf.notAfter.getTime() - now.getTime())}, shorter than the ${hours(want.notAfter.getTime() - now.getTime())} requested (dpCert.rotation.expiration)`,
    );
  }
  if (want.caNotAfter && leaf.notAfter.getTime() > want.caNotAfter.getTime()) {
    throw fail(
      `ACM PCA issued a certificate that outlives its CA certificate (${leaf.notAfter.toISOString()} > ${want.caNotAfter.toISOString()})`,
    );
  }
  return leaf;
}
