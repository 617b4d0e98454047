import type { ResourceType } from './types.js';

/** Where each resource type lives in the HTTP API (Kuma's Universal paths). */
export interface ResourceRoute {
  type: ResourceType;
  /** Express path of the collection in one mesh (or global). */
  collection: string;
  item: string;
  /** Collection across all meshes, for mesh-scoped types. */
  all?: string;
  /** Written by the control plane itself (zones through the sync stream, or global), never through the API. */
  writtenBy?: 'zones' | 'global';
  /** Reading needs the admin token even from localhost. */
  sensitive?: boolean;
}

export const ROUTES: readonly ResourceRoute[] = [
  { type: 'Mesh', collection: '/meshes', item: '/meshes/:name' },
  { type: 'Secret', collection: '/meshes/:mesh/secrets', item: '/meshes/:mesh/secrets/:name', all: '/secrets', sensitive: true },
  { type: 'GlobalSecret', collection: '/global-secrets', item: '/global-secrets/:name', sensitive: true },
  { type: 'MeshIdentity', collection: '/meshes/:mesh/meshidentities', item: '/meshes/:mesh/meshidentities/:name', all: '/meshidentities' },
  { type: 'MeshTrust', collection: '/meshes/:mesh/meshtrusts', item: '/meshes/:mesh/meshtrusts/:name', all: '/meshtrusts' },
  { type: 'MeshTLS', collection: '/meshes/:mesh/meshtlses', item: '/meshes/:mesh/meshtlses/:name', all: '/meshtlses' },
  { type: 'Zone', collection: '/zones', item: '/zones/:name' },
  {
    type: 'Dataplane',
    collection: '/meshes/:mesh/dataplanes',
    item: '/meshes/:mesh/dataplanes/:name',
    all: '/dataplanes',
    writtenBy: 'zones',
  },
  {
    type: 'DataplaneInsight',
    collection: '/meshes/:mesh/dataplane-insights',
    item: '/meshes/:mesh/dataplane-insights/:name',
    all: '/dataplane-insights',
    writtenBy: 'zones',
  },
  { type: 'ZoneInsight', collection: '/zone-insights', item: '/zone-insights/:name', writtenBy: 'zones' },
  { type: 'MeshInsight', collection: '/mesh-insights', item: '/mesh-insights/:name', writtenBy: 'zones' },
];

/** The item path of a resource, for `meshctl apply` and for Location headers. */
export function itemPath(type: ResourceType, name: string, mesh?: string): string {
  const route = ROUTES.find((r) => r.type === type);
  if (!route) throw new Error(`no API route for ${type}`);
  return route.item.replace(':mesh', encodeURIComponent(mesh ?? '')).replace(':name', encodeURIComponent(name));
}
