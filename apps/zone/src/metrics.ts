// The zone's metrics, read from the identity service and the KDS stream when Prometheus scrapes:
// nothing is counted on the issuance path itself. Dataplane names and serials stay out of labels
// (they belong in DataplaneInsights); meshes and backends are few.
import { Counter, Gauge, type Registry } from '@meshca/common';
import type { IdentityService } from '@meshca/identity';
import type { ZoneLeadership } from './leadership.js';

export function registerZoneMetrics(registry: Registry, deps: { identity: () => IdentityService | undefined; kds: ZoneLeadership }): void {
  const stats = () => deps.identity()?.stats();
  new Counter({
    name: 'cert_generation_total',
    help: 'Dataplane certificates issued by this zone process (as Kuma names it).',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(stats()?.issued ?? 0);
    },
  });
  new Counter({
    name: 'cert_generation_failure_total',
    help: 'Dataplane certificate issuances that failed in this zone process.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(stats()?.failed ?? 0);
    },
  });
  new Gauge({
    name: 'meshca_issuance_queue',
    help: "Issuances waiting for the zone's rate limiter.",
    registers: [registry],
    collect() {
      this.set(stats()?.queued ?? 0);
    },
  });
  new Gauge({
    name: 'meshca_dataplanes_connected',
    help: 'Dataplanes connected to this zone process.',
    registers: [registry],
    collect() {
      this.set(stats()?.connected ?? 0);
    },
  });
  new Gauge({
    name: 'meshca_dataplane_cert_expiry_earliest_timestamp_seconds',
    help: 'The earliest notAfter among the certificates held by the dataplanes of this zone process, per mesh (Unix seconds).',
    labelNames: ['mesh'],
    registers: [registry],
    collect() {
      this.reset();
      const earliest = new Map<string, number>();
      for (const d of deps.identity()?.dataplanes() ?? []) {
        if (d.notAfter === undefined) continue;
        const t = Date.parse(d.notAfter) / 1000;
        earliest.set(d.mesh, Math.min(earliest.get(d.mesh) ?? Infinity, t));
      }
      for (const [mesh, t] of earliest) this.set({ mesh }, t);
    },
  });
  new Gauge({
    name: 'meshca_ca_cert_not_after_timestamp_seconds',
    help: "The earliest notAfter of a mesh backend's CA roots as this zone sees them (Unix seconds).",
    labelNames: ['mesh', 'backend', 'type'],
    registers: [registry],
    collect() {
      this.reset();
      for (const b of deps.identity()?.backends() ?? []) {
        if (b.notAfter !== undefined) this.set({ mesh: b.mesh, backend: b.backend, type: b.type }, b.notAfter.getTime() / 1000);
      }
    },
  });
  new Gauge({
    name: 'meshca_ca_backend_available',
    help: '1 while the zone can issue through a mesh backend, 0 while it cannot be opened (its certificates stay valid).',
    labelNames: ['mesh', 'backend', 'type'],
    registers: [registry],
    collect() {
      this.reset();
      for (const b of deps.identity()?.backends() ?? [])
        this.set({ mesh: b.mesh, backend: b.backend, type: b.type }, b.unavailable ? 0 : 1);
    },
  });
  new Gauge({
    name: 'kds_stream_connected',
    help: "1 while this zone process holds the KDS stream to global (the leader of the zone's replicas), else 0.",
    registers: [registry],
    collect() {
      this.set(deps.kds.status().connected ? 1 : 0);
    },
  });
  new Gauge({
    name: 'kds_last_revision',
    help: 'The last global revision this zone applied.',
    registers: [registry],
    collect() {
      this.set(deps.kds.status().lastRevision);
    },
  });
  new Counter({
    name: 'kds_nacks_total',
    help: 'Global versions this zone refused (NACKed) on its current stream.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(deps.kds.status().nacks.length);
    },
  });
}
