// The overview: zones, meshes, dataplanes per zone, certificates expiring soon, and what is wrong,
// each linked to the view that shows it.
import type { MeshSpec } from '@meshca/api';
import type { DataplaneIndex } from './dataplane-index.js';
import type { Overview, Problem } from './contract.js';
import type { GuiSource } from './source.js';

export async function overview(source: GuiSource, index: DataplaneIndex): Promise<Overview> {
  const [zones, meshes, identities, rows, expiring] = await Promise.all([
    source.zones(),
    source.store.list('Mesh'),
    source.store.list('MeshIdentity'),
    index.rows(),
    index.page({ sort: 'expiry', offset: 0, size: 10, soon: true }),
  ]);
  const byZone = new Map<string, { total: number; connected: number }>();
  const byMesh = new Map<string, number>();
  const now = Date.now();
  const problems: Problem[] = [];
  let failing = 0;
  let expired = 0;
  const offline = new Set(source.mode === 'global' ? zones.filter((z) => !z.online).map((z) => z.name) : []);
  for (const r of rows) {
    const z = byZone.get(r.zone) ?? { total: 0, connected: 0 };
    z.total++;
    if (r.connected) z.connected++;
    byZone.set(r.zone, z);
    byMesh.set(r.mesh, (byMesh.get(r.mesh) ?? 0) + 1);
    // An offline zone's dataplanes are as it reported them last: not counted as failing or expired now.
    if (!r.connected || offline.has(r.zone)) continue;
    if (r.lastError !== undefined) failing++;
    if (r.notAfter !== undefined && Date.parse(r.notAfter) <= now) expired++;
  }
  for (const z of zones) {
    if (!z.online) problems.push({ kind: 'zone-offline', message: `zone ${z.name} is offline`, link: '#/zones' });
    if (z.nacks > 0)
      problems.push({ kind: 'zone-nack', message: `zone ${z.name} refused ${z.nacks} version(s) from global`, link: '#/zones' });
    for (const b of z.backends) {
      if (!b.available) {
        problems.push({
          kind: 'backend-unavailable',
          message: `backend ${b.backend} of mesh ${b.mesh} cannot be opened in zone ${z.name}${b.error ? `: ${b.error}` : ''}`,
          link: `#/meshes/${encodeURIComponent(b.mesh)}`,
        });
      }
    }
  }
  if (failing > 0)
    problems.push({
      kind: 'issuance-failing',
      message: `${failing} connected dataplane(s) whose last issuance failed`,
      link: '#/dataplanes?errors=1',
    });
  if (expired > 0)
    problems.push({
      kind: 'certificate-expired',
      message: `${expired} connected dataplane(s) hold an expired certificate`,
      link: '#/dataplanes?expiresWithin=0',
    });
  const identityCount = new Map<string, number>();
  for (const i of identities) identityCount.set(i.meta.mesh ?? '', (identityCount.get(i.meta.mesh ?? '') ?? 0) + 1);
  return {
    mode: source.mode,
    ...(source.zone !== undefined ? { zone: source.zone } : {}),
    version: source.version,
    zones: zones.map(({ name, online, lastSeen, ackedRevision, sentRevision, nacks }) => ({
      name,
      online,
      nacks,
      ...(lastSeen !== undefined ? { lastSeen } : {}),
      ...(ackedRevision !== undefined ? { ackedRevision } : {}),
      ...(sentRevision !== undefined ? { sentRevision } : {}),
    })),
    meshes: meshes.map((m) => {
      const spec = m.spec as MeshSpec;
      return {
        name: m.meta.name,
        ...(spec.mtls?.enabledBackend !== undefined ? { enabledBackend: spec.mtls.enabledBackend } : {}),
        backends: (spec.mtls?.backends ?? []).map((b) => ({ name: b.name, type: b.type })),
        identities: identityCount.get(m.meta.name) ?? 0,
        dataplanes: byMesh.get(m.meta.name) ?? 0,
      };
    }),
    dataplanesByZone: [...byZone]
      .map(([zone, c]) => ({ zone, ...c, online: !offline.has(zone) }))
      .sort((a, b) => a.zone.localeCompare(b.zone)),
    expiringSoon: { total: expiring.total, items: expiring.items },
    problems,
  };
}
