// The MeshTLS settings of one dataplane, as the zone sends them: the merged policies that target it,
// else Kuma's default (Strict for a dataplane on a MeshIdentity; on Mesh.mtls, the enabled
// backend's mode, Strict unless it is PERMISSIVE).
import { effectiveMeshTls } from '@meshca/api';
import type { TlsMessage } from '@meshca/dp-protocol';
import type { MeshView } from './mesh-ca-cache.js';
import type { Session } from './session.js';

/** MeshTLS cipher names are OpenSSL's. */
export function tlsPolicyFor(view: MeshView, s: Session): TlsMessage {
  const merged = effectiveMeshTls(view.tls, { name: s.identity.name, labels: s.identity.labels ?? {}, tags: s.identity.tags });
  const fallback = s.held.identity !== undefined ? 'Strict' : view.enabled?.backend.mode === 'PERMISSIVE' ? 'Permissive' : 'Strict';
  const version = (v: string | undefined) => (v === undefined || v === 'TLSAuto' ? undefined : v);
  const min = version(merged.tlsVersion?.min);
  const max = version(merged.tlsVersion?.max);
  return {
    type: 'tls',
    mode: merged.mode ?? fallback,
    ...(min !== undefined ? { minVersion: min } : {}),
    ...(max !== undefined ? { maxVersion: max } : {}),
    ...(merged.tlsCiphers !== undefined ? { ciphers: merged.tlsCiphers } : {}),
    policies: merged.policies,
  };
}
