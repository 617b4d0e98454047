import { caStateOfInsight, type DataplaneInsightLike, type RotationView } from '@meshca/api';
import type { KdsServer } from '@meshca/kds';
import type { ResourceStore } from '@meshca/store';

/**
 * What global knows of a mesh's dataplanes, for the rotation validators: the DataplaneInsights
 * zones reported, with the dataplanes of zones that are offline now set aside as unknown.
 */
export async function rotationView(store: ResourceStore, kds: KdsServer, mesh: string): Promise<RotationView> {
  const insights = await store.list('DataplaneInsight', { mesh });
  const online = new Set(
    kds
      .zones()
      .filter((z) => z.online)
      .map((z) => z.zone),
  );
  const offlineZones = new Set<string>();
  const dataplanes: RotationView['dataplanes'] = [];
  for (const insight of insights) {
    const state = caStateOfInsight({
      ...(insight.spec as Omit<DataplaneInsightLike, 'name'>),
      name: insight.meta.name,
      labels: insight.meta.labels,
    });
    if (online.has(state.zone)) dataplanes.push(state);
    else if (state.connected) offlineZones.add(state.zone);
  }
  return { dataplanes, offlineZones: [...offlineZones].sort() };
}
