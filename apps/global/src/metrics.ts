// Global's metrics, read from the KDS server when Prometheus scrapes.
import { Gauge, type Registry } from '@meshca/common';
import type { KdsServer } from '@meshca/kds';

export function registerGlobalMetrics(registry: Registry, kds: () => KdsServer): void {
  new Gauge({
    name: 'kds_zones_online',
    help: 'Zones with a KDS stream to this global replica.',
    registers: [registry],
    collect() {
      this.set(
        kds()
          .zones()
          .filter((z) => z.online).length,
      );
    },
  });
  new Gauge({
    name: 'kds_zone_online',
    help: '1 while the zone streams to this global replica, else 0.',
    labelNames: ['zone'],
    registers: [registry],
    collect() {
      this.reset();
      for (const z of kds().zones()) this.set({ zone: z.zone }, z.online ? 1 : 0);
    },
  });
  new Gauge({
    name: 'kds_zone_nacks',
    help: 'Global versions the zone refused (NACKed), as far as this replica knows (the last 20).',
    labelNames: ['zone'],
    registers: [registry],
    collect() {
      this.reset();
      for (const z of kds().zones()) this.set({ zone: z.zone }, z.nacks.length);
    },
  });
  new Gauge({
    name: 'kds_zone_revision_lag',
    help: 'Global revisions streamed to the zone that it has not ACKed yet.',
    labelNames: ['zone'],
    registers: [registry],
    collect() {
      this.reset();
      for (const z of kds().zones()) if (z.online) this.set({ zone: z.zone }, Math.max(0, z.sentRevision - z.ackedRevision));
    },
  });
}
