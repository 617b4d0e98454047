import { ROUTES, type ResourceRoute, type ResourceType } from '@meshca/api';

/** What users type after `get`/`delete`: the plural (listed in help and errors) and the singular. */
export const KINDS: readonly { plural: string; singular: string; type: ResourceType }[] = [
  { plural: 'meshes', singular: 'mesh', type: 'Mesh' },
  { plural: 'secrets', singular: 'secret', type: 'Secret' },
  { plural: 'global-secrets', singular: 'global-secret', type: 'GlobalSecret' },
  { plural: 'meshidentities', singular: 'meshidentity', type: 'MeshIdentity' },
  { plural: 'meshtrusts', singular: 'meshtrust', type: 'MeshTrust' },
  { plural: 'meshtlses', singular: 'meshtls', type: 'MeshTLS' },
  { plural: 'zones', singular: 'zone', type: 'Zone' },
  { plural: 'dataplanes', singular: 'dataplane', type: 'Dataplane' },
  { plural: 'dataplane-insights', singular: 'dataplane-insight', type: 'DataplaneInsight' },
  { plural: 'zone-insights', singular: 'zone-insight', type: 'ZoneInsight' },
  { plural: 'mesh-insights', singular: 'mesh-insight', type: 'MeshInsight' },
];

/** Every type `get`/`delete` accept, as help and errors list them. */
export const KIND_NAMES: string = KINDS.map((k) => k.plural).join(', ');

export function resolveKind(word: string): { type: ResourceType; route: ResourceRoute } {
  const lower = word.toLowerCase();
  const type = KINDS.find((k) => k.plural === lower || k.singular === lower)?.type;
  const route = type && ROUTES.find((r) => r.type === type);
  if (!type || !route) throw new Error(`unknown resource type "${word}"; use one of: ${KIND_NAMES}`);
  return { type, route };
}

export function collectionPath(route: ResourceRoute, mesh: string): string {
  return route.collection.replace(':mesh', encodeURIComponent(mesh));
}
