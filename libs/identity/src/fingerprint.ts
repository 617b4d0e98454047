// What a dataplane certificate is issued from, reduced to one short string: the enabled backend's
// effective settings and its roots. A certificate whose fingerprint is not the mesh's current one
// is re-issued, so a changed lifetime, Vault role or ACM PCA commonName reaches every dataplane
// promptly instead of at its next renewal. A hash, never the settings: conf may hold inline secrets.
import { createHash } from 'node:crypto';
import type { MtlsBackend } from '@meshca/api';
import { dpCertTtlSeconds } from '@meshca/ca';

/** JSON with object keys sorted at every level, so the same settings always give the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * The backend's settings as they shape a certificate: name, type, dpCert (its lifetime as seconds,
 * so "24h" and "1440m" or an absent default are one setting) and conf.
 */
export function backendSettingsFingerprint(backend: MtlsBackend): string {
  let ttlSeconds: number | string;
  try {
    ttlSeconds = dpCertTtlSeconds(backend);
  } catch {
    // Unparsable (global validates it, so only a hand-written store): keep the text as it is.
    ttlSeconds = backend.dpCert?.rotation?.expiration ?? '';
  }
  const settings = {
    name: backend.name,
    type: backend.type,
    dpCert: { ...backend.dpCert, rotation: { ...backend.dpCert?.rotation, expiration: ttlSeconds } },
    conf: backend.conf ?? {},
  };
  return sha256(canonicalJson(settings));
}

/** The fingerprint of issuing from `backend` under `roots` (an in-place CA change changes the roots). */
export function issuanceFingerprint(backend: MtlsBackend, roots: readonly string[]): string {
  return sha256(`${backendSettingsFingerprint(backend)}\n${roots.join('')}`);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}
