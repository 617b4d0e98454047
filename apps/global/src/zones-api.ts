// GET /zones and /zones/{name}: the Zone resources merged with what KDS knows of each zone, as a
// `status` object. A zone that connected once is listed even when nobody applied a Zone for it.
import express, { type Router } from 'express';
import { toUniversal, type Resource } from '@meshca/api';
import type { KdsServer, ZoneState } from '@meshca/kds';
import { ApiError, requireReader } from '@meshca/http';
import type { ResourceStore } from '@meshca/store';
import { persistedState, ZONE_STATE_LABEL, type PersistedZoneState } from './kds.js';

export type ZoneStatus = Omit<ZoneState, 'zone'> | (PersistedZoneState & { online: false });

export function zonesRouter(deps: { store: ResourceStore; kds: KdsServer; adminToken: string }): Router {
  const router = express.Router();
  const read = requireReader(deps.adminToken, false);

  router.get('/zones', read, async (_req, res) => {
    const resources = new Map((await deps.store.list('Zone')).map((z) => [z.meta.name, z]));
    const live = new Map(deps.kds.zones().map((s) => [s.zone, s]));
    const names = [...new Set([...resources.keys(), ...live.keys()])].sort();
    const items = names.map((n) => zoneItem(n, resources.get(n), live.get(n)));
    res.json({ total: items.length, items, next: null });
  });

  router.get('/zones/:name', read, async (req, res) => {
    const name = String(req.params.name);
    const resource = await deps.store.get({ type: 'Zone', name });
    const live = deps.kds.zone(name);
    if (resource === undefined && live === undefined) {
      throw new ApiError(404, 'Not found', `Zone "${name}" not found: no Zone resource and no zone of that name has connected`);
    }
    res.json(zoneItem(name, resource, live));
  });
  return router;
}

function zoneItem(name: string, resource: Resource | undefined, live: ZoneState | undefined): Record<string, unknown> {
  const base = resource === undefined ? { type: 'Zone', name, labels: {} as Record<string, string> } : toUniversal(resource);
  const labels = { ...(base.labels as Record<string, string>) };
  delete labels[ZONE_STATE_LABEL];
  return { ...base, labels, status: statusOf(resource, live) };
}

function statusOf(resource: Resource | undefined, live: ZoneState | undefined): ZoneStatus | { online: false } {
  if (live !== undefined) {
    const { zone: _zone, ...status } = live;
    return status;
  }
  // Not seen by this global process: what the last one recorded, and offline whatever it said.
  const saved = persistedState(resource);
  return saved === undefined ? { online: false } : { ...saved, online: false };
}
