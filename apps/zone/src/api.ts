// The zone's HTTPS API: the synced resources, read-only; /status; and a router where later
// services (the dataplane certificate service) mount their routes.
import express, { type Express, type Router } from 'express';
import { ROUTES } from '@meshca/api';
import type { Logger } from '@meshca/common';
import { ApiError, createApiApp, requireReader } from '@meshca/http';
import type { KdsClientStatus } from '@meshca/kds';
import type { ResourceStore } from '@meshca/store';

export interface ZoneApiOptions {
  zone: string;
  version: string;
  store: ResourceStore;
  storeKind: string;
  adminToken: string;
  log: Logger;
  /** Where writes go instead (it names global's API, learned from the sync stream). */
  readOnlyReason: () => string;
  status: () => { global: string; kds: KdsClientStatus };
}

export function createZoneApi(opts: ZoneApiOptions): { app: Express; extensions: Router } {
  const extensions = express.Router();
  const app = createApiApp({
    store: opts.store,
    log: opts.log,
    adminToken: opts.adminToken,
    readOnlyReason: opts.readOnlyReason(),
    info: { mode: 'zone', version: opts.version, instanceId: crypto.randomUUID(), store: opts.storeKind, zone: opts.zone },
    extend: (api) => {
      // Refused before the token check: the answer is the same for everyone, and says where to go.
      const readOnly = () => {
        throw new ApiError(405, 'Read-only control plane', opts.readOnlyReason());
      };
      for (const route of ROUTES) {
        api.put(route.item, readOnly);
        api.delete(route.item, readOnly);
      }
      api.get('/status', requireReader(opts.adminToken, false), (_req, res) => {
        const { global, kds } = opts.status();
        res.json({ zone: opts.zone, global, store: opts.storeKind, version: opts.version, kds });
      });
      api.use(extensions);
    },
  });
  return { app, extensions };
}
