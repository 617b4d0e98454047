// The `status` a zone shows for a MeshIdentity (as this zone runs it) and a MeshTrust (its origin).
import type { Resource } from '@meshca/api';
import type { IdentityService } from '@meshca/identity';

export function zoneResourceStatus(r: Resource, identity: IdentityService): Record<string, unknown> | undefined {
  if (r.meta.type === 'MeshTrust') {
    const origin = r.meta.labels['meshca.io/origin-kri'];
    return origin ? { origin: { kri: origin } } : {};
  }
  if (r.meta.type !== 'MeshIdentity') return undefined;
  const state = identity.identities().find((i) => i.mesh === r.meta.mesh && i.name === r.meta.name);
  if (!state) {
    return { conditions: [{ type: 'Ready', status: 'False', reason: 'NotLoaded', message: 'this zone has not loaded its mesh yet' }] };
  }
  const { conditions, kri, trustDomain, dataplanes } = state;
  return { conditions, kri, ...(trustDomain !== undefined ? { trustDomain } : {}), dataplanes };
}
