// Global's metrics, read from the KDS server when Prometheus scrapes.
import { Counter, Gauge, type Registry } from '@meshca/common';
import type { KdsServer, ZoneState } from '@meshca/kds';

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
  const perZone = (name: string, help: string, value: (z: ZoneState) => number, type: 'gauge' | 'counter') => {
    const config = {
      name,
      help,
      labelNames: ['zone'],
      registers: [registry],
    };
    if (type === 'gauge')
      return new Gauge({
        ...config,
        collect() {
          this.reset();
          for (const z of kds().zones()) this.set({ zone: z.zone }, value(z));
        },
      });
    return new Counter({
      ...config,
      collect() {
        this.reset();
        for (const z of kds().zones()) this.inc({ zone: z.zone }, value(z));
      },
    });
  };
  perZone('kds_zone_revision_sent', 'The newest global revision streamed to the zone.', (z) => z.sentRevision, 'gauge');
  perZone('kds_zone_revision_acked', 'The newest global revision the zone ACKed.', (z) => z.ackedRevision, 'gauge');
  perZone(
    'kds_zone_connects_total',
    'KDS streams the zone opened to this global process (a count that grows: reconnects).',
    (z) => z.connects,
    'counter',
  );
  perZone('kds_zone_sent_bytes_total', 'Bytes of KDS messages this global process sent to the zone.', (z) => z.bytesSent, 'counter');
  perZone(
    'kds_zone_received_bytes_total',
    'Bytes of KDS messages this global process received from the zone.',
    (z) => z.bytesReceived,
    'counter',
  );
}
