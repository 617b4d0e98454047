import { createPrivateKey } from 'node:crypto';

/** Vault returns RSA keys as PKCS#1 and EC keys as SEC1 unless asked otherwise; callers get PKCS#8. */
export function toPkcs8Pem(pem: string): string {
  return createPrivateKey(pem).export({ type: 'pkcs8', format: 'pem' }).toString();
}
