// The zones as every global replica sees them. A zone streams to one replica; the others know it
// from the state that replica recorded on the Zone resource (kds.ts), trusted while that replica is
// present in the store (startPresence). A replica that died leaves its zones offline here until
// they reconnect elsewhere, rather than online for good.
import type { KdsServer } from '@meshca/kds';
import { isPresent, type ResourceStore } from '@meshca/store';
import { persistedState, type PersistedZoneState } from './kds.js';

export interface ZoneSeen {
  zone: string;
  online: boolean;
  connectedAt?: string;
  /** What this replica or the one holding the zone's stream recorded; absent for a zone never connected. */
  state?: PersistedZoneState;
  /** Live here, rather than on another replica. */
  here: boolean;
}

export async function zonesSeen(store: ResourceStore, kds: KdsServer | undefined): Promise<ZoneSeen[]> {
  const live = new Map((kds?.zones() ?? []).map((s) => [s.zone, s]));
  const out = new Map<string, ZoneSeen>();
  for (const [zone, s] of live)
    out.set(zone, { zone, online: s.online, ...(s.connectedAt ? { connectedAt: s.connectedAt } : {}), here: true });
  for (const resource of await store.list('Zone')) {
    const zone = resource.meta.name;
    const saved = persistedState(resource);
    const mine = out.get(zone);
    if (mine?.online) continue;
    if (saved === undefined) continue;
    const elsewhere =
      saved.online && saved.replica !== undefined && store.leases !== undefined && (await isPresent(store.leases, saved.replica));
    if (mine !== undefined && !elsewhere) continue;
    out.set(zone, {
      zone,
      online: elsewhere,
      ...(saved.connectedAt ? { connectedAt: saved.connectedAt } : {}),
      state: saved,
      here: false,
    });
  }
  return [...out.values()].sort((a, b) => (a.zone < b.zone ? -1 : 1));
}
