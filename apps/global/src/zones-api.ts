// GET /zones and /zones/{name}: the Zone resources merged with what KDS knows of each zone, as a
// `status` object. A zone that connected once is listed even when nobody applied a Zone for it.
import express, { type Router } from 'express';
import { toUniversal, type Resource } from '@meshca/api';
import type { KdsServer, ZoneState } from '@meshca/kds';
import { ApiError, requireReader } from '@meshca/http';
import type { ResourceStore } from '@meshca/store';
import { persistedState, ZONE_STATE_LABEL, type PersistedZoneState } from './kds.js';
import { zonesSeen } from './zones-view.js';

export type ZoneStatus = Omit<ZoneState, 'zone'> | (PersistedZoneState & { online: false });

interface ZonesDeps {
  store: ResourceStore;
  kds: KdsServer;
  replica: string;
}

/** A zone as GET /zones shows it: its resource (or name) and a `status`. */
export type ZoneItem = Record<string, unknown> & {
  name: string;
  status: Partial<Omit<ZoneState, 'zone'>> & { online: boolean; leader?: string; replica?: string };
};

export function zonesRouter(deps: ZonesDeps & { adminToken: string }): Router {
  /** Online on another replica (its recorded state, while that replica is present), by zone. */
  const elsewhere = async () => new Set((await zonesSeen(deps.store, deps.kds)).filter((z) => !z.here && z.online).map((z) => z.zone));
  const router = express.Router();
  const read = requireReader(deps.adminToken, false);

  router.get('/zones', read, async (_req, res) => {
    const items = await listZones(deps);
    res.json({ total: items.length, items, next: null });
  });

  router.get('/zones/:name', read, async (req, res) => {
    const name = String(req.params.name);
    const [resource, insight] = await Promise.all([deps.store.get({ type: 'Zone', name }), deps.store.get({ type: 'ZoneInsight', name })]);
    const live = deps.kds.zone(name);
    if (resource === undefined && live === undefined) {
      throw new ApiError(404, 'Not found', `Zone "${name}" not found: no Zone resource and no zone of that name has connected`);
    }
    res.json(zoneItem(name, resource, live, insight && leaderOf(insight), (await elsewhere()).has(name), deps.replica));
  });
  return router;
}

/** Every zone (a Zone resource, or one that connected) as GET /zones lists it, by name. */
export async function listZones(deps: ZonesDeps): Promise<ZoneItem[]> {
  const [zones, insights, seen] = await Promise.all([
    deps.store.list('Zone'),
    deps.store.list('ZoneInsight'),
    zonesSeen(deps.store, deps.kds),
  ]);
  const resources = new Map(zones.map((z) => [z.meta.name, z]));
  const leaders = new Map(insights.map((i) => [i.meta.name, leaderOf(i)]));
  const live = new Map(deps.kds.zones().map((s) => [s.zone, s]));
  const names = [...new Set([...resources.keys(), ...live.keys()])].sort();
  const onOther = new Set(seen.filter((z) => !z.here && z.online).map((z) => z.zone));
  return names.map((n) => zoneItem(n, resources.get(n), live.get(n), leaders.get(n), onOther.has(n), deps.replica));
}

/** The replica leading the zone, as its ZoneInsight says (replicas of a zone on one Redis). */
function leaderOf(insight: Resource): string | undefined {
  const leader = (insight.spec as { leader?: unknown }).leader;
  return typeof leader === 'string' ? leader : undefined;
}

function zoneItem(
  name: string,
  resource: Resource | undefined,
  live: ZoneState | undefined,
  leader: string | undefined,
  onOtherReplica: boolean,
  replica: string,
): ZoneItem {
  const base = resource === undefined ? { type: 'Zone', name, labels: {} as Record<string, string> } : toUniversal(resource);
  const labels = { ...(base.labels as Record<string, string>) };
  delete labels[ZONE_STATE_LABEL];
  const status = statusOf(resource, live, onOtherReplica, replica);
  return { ...base, name, labels, status: status.online && leader !== undefined ? { ...status, leader } : status };
}

function statusOf(
  resource: Resource | undefined,
  live: ZoneState | undefined,
  onOtherReplica: boolean,
  replica: string,
): ZoneStatus | { online: boolean } {
  if (live !== undefined && (live.online || !onOtherReplica)) {
    const { zone: _zone, ...status } = live;
    return { ...status, replica };
  }
  // Not streaming to this process: what the replica holding it recorded (online while that replica
  // is present), else what the last one recorded, offline whatever it said.
  const saved = persistedState(resource);
  return saved === undefined ? { online: false } : { ...saved, online: onOtherReplica };
}
