// Kuma Resource Identifiers, as Kuma writes them in DataplaneInsights (issuedBackend,
// supportedBackends) and in a MeshTrust's origin: kri_<short>_<mesh>_<zone>_<namespace>_<name>_<section>.
// meshca's zones are Universal, so the namespace is empty.

export const KRI_SHORT = { MeshIdentity: 'mid', MeshTrust: 'mtrust' } as const;

export function kri(type: keyof typeof KRI_SHORT, mesh: string, zone: string, name: string): string {
  return `kri_${KRI_SHORT[type]}_${mesh}_${zone}__${name}_`;
}
