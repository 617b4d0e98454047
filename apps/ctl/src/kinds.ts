import { ROUTES, type ResourceRoute, type ResourceType } from '@meshca/api';

/** What users type after `get`/`delete`, singular or plural, mapped to the resource type. */
const ALIASES: Record<string, ResourceType> = {
  mesh: 'Mesh', meshes: 'Mesh',
  secret: 'Secret', secrets: 'Secret',
  'global-secret': 'GlobalSecret', 'global-secrets': 'GlobalSecret',
  zone: 'Zone', zones: 'Zone',
  dataplane: 'Dataplane', dataplanes: 'Dataplane',
  'dataplane-insight': 'DataplaneInsight', 'dataplane-insights': 'DataplaneInsight',
  'zone-insight': 'ZoneInsight', 'zone-insights': 'ZoneInsight',
  meshidentity: 'MeshIdentity', meshidentities: 'MeshIdentity',
};

export function resolveKind(word: string): { type: ResourceType; route: ResourceRoute } {
  const type = ALIASES[word.toLowerCase()];
  const route = type && ROUTES.find((r) => r.type === type);
  if (!type || !route) {
    throw new Error(`unknown resource type "${word}"; use one of: ${[...new Set(Object.keys(ALIASES).filter((k) => k.endsWith('s')))].join(', ')}`);
  }
  return { type, route };
}

export function collectionPath(route: ResourceRoute, mesh: string): string {
  return route.collection.replace(':mesh', encodeURIComponent(mesh));
}
