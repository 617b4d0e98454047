// What global's GUI reads: its store, its zones as GET /zones lists them (with the backends each
// zone reported in its ZoneInsight), and the rotation view its validators use.
import type { GuiSource, ZoneBackendState, ZoneDetail } from '@meshca/gui';
import type { KdsServer } from '@meshca/kds';
import type { ResourceStore } from '@meshca/store';
import { VERSION } from '@meshca/common';
import { rotationView } from './rotation-view.js';
import { listZones } from './zones-api.js';

export function globalGuiSource(deps: { store: ResourceStore; kds: KdsServer; replica: string; zonesVersion: () => number }): GuiSource {
  return {
    mode: 'global',
    version: VERSION,
    store: deps.store,
    zonesVersion: deps.zonesVersion,
    rotationView: (mesh) => rotationView(deps.store, deps.kds, mesh),
    async zones() {
      const [items, insights] = await Promise.all([listZones(deps), deps.store.list('ZoneInsight')]);
      const reported = new Map(insights.map((i) => [i.meta.name, backendsOf(i.spec)]));
      return items.map((z): ZoneDetail => {
        const s = z.status;
        const lag =
          s.online && s.sentRevision !== undefined && s.ackedRevision !== undefined
            ? Math.max(0, s.sentRevision - s.ackedRevision)
            : undefined;
        return {
          name: z.name,
          online: s.online,
          nacks: s.nacks?.length ?? 0,
          nackList: s.nacks ?? [],
          refused: s.refused ?? [],
          backends: reported.get(z.name) ?? [],
          ...defined({
            lastSeen: s.online ? s.lastSeen : (s.disconnectedAt ?? s.lastSeen),
            ackedRevision: s.ackedRevision,
            sentRevision: s.sentRevision,
            connectedAt: s.connectedAt,
            disconnectedAt: s.disconnectedAt,
            lastDisconnect: s.lastDisconnect,
            software: s.software,
            lag,
            leader: s.leader,
            replica: s.replica,
          }),
        };
      });
    },
  };
}

/** The backends a zone reported in its ZoneInsight. */
export function backendsOf(spec: unknown): ZoneBackendState[] {
  const list = (spec as { backends?: unknown } | undefined)?.backends;
  return Array.isArray(list)
    ? (list as ZoneBackendState[]).filter((b) => typeof b?.mesh === 'string' && typeof b.backend === 'string')
    : [];
}

function defined<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
