// What a zone's GUI reads: its own store (the Meshes global sent, its dataplanes' insights), and
// itself as the one zone, with its stream to global and the backends it runs.
import { VERSION } from '@meshca/common';
import type { GuiSource, ZoneDetail } from '@meshca/gui';
import type { IdentityService } from '@meshca/identity';
import type { ResourceStore } from '@meshca/store';
import type { ZoneLeadership } from './leadership.js';

export function zoneGuiSource(deps: { zone: string; store: ResourceStore; kds: ZoneLeadership; identity: IdentityService }): GuiSource {
  const self = (): ZoneDetail => {
    const st = deps.kds.status();
    const leader = deps.kds.leader();
    return {
      name: deps.zone,
      online: st.connected,
      nacks: st.nacks.length,
      nackList: st.nacks,
      refused: st.refused,
      ackedRevision: st.lastRevision,
      software: { name: 'meshca-zone', version: VERSION },
      ...(st.connectedAt !== undefined ? { connectedAt: st.connectedAt } : {}),
      ...(st.lastError !== undefined ? { lastDisconnect: st.lastError } : {}),
      ...(leader !== undefined ? { leader: leader.replica } : {}),
      replica: deps.kds.replica,
      backends: deps.identity.backends().map((b) => ({
        mesh: b.mesh,
        backend: b.backend,
        type: b.type,
        available: !b.unavailable,
        ...(b.error !== undefined ? { error: b.error } : {}),
        ...(b.ca !== undefined ? { ca: b.ca } : {}),
      })),
    };
  };
  // The zone's state has no change counter of its own: a new fingerprint is a new version.
  let seen = '';
  let version = 0;
  return {
    mode: 'zone',
    zone: deps.zone,
    version: VERSION,
    store: deps.store,
    async zones() {
      return [self()];
    },
    zonesVersion() {
      const { name: _name, ...now } = self();
      const print = JSON.stringify(now);
      if (print !== seen) {
        seen = print;
        version++;
      }
      return version;
    },
  };
}
