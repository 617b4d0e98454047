// Kuma Resource Identifiers, as Kuma writes them in DataplaneInsights (issuedBackend,
// supportedBackends) and in a MeshTrust's origin: kri_<short>_<mesh>_<zone>_<namespace>_<name>_<section>.
// meshca's zones are Universal, so the namespace is empty.

export const KRI_SHORT = { MeshIdentity: 'mid', MeshTrust: 'mtrust' } as const;

export function kri(type: keyof typeof KRI_SHORT, mesh: string, zone: string, name: string): string {
  return `kri_${KRI_SHORT[type]}_${mesh}_${zone}__${name}_`;
}

/** The KRI of a MeshTrust: one a zone published keeps its zone and its name in that zone. */
export function meshTrustKri(mesh: string, meta: { name: string; labels: Readonly<Record<string, string>> }): string {
  return kri('MeshTrust', mesh, meta.labels['kuma.io/zone'] ?? '', meta.labels['kuma.io/display-name'] ?? meta.name);
}
