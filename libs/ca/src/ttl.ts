import { parseDuration, type MtlsBackend } from '@meshca/api';

/** Kuma's default dataplane certificate lifetime. */
export const DEFAULT_DP_CERT_SECONDS = 24 * 3600;

export function dpCertTtlSeconds(backend: MtlsBackend): number {
  const expiration = backend.dpCert?.rotation?.expiration;
  return expiration ? parseDuration(expiration) : DEFAULT_DP_CERT_SECONDS;
}
