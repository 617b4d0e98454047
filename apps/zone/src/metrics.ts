// The zone's state metrics, read from the identity service and the KDS stream when Prometheus
// scrapes (issuance-metrics.ts counts as issuance goes). Dataplane names and serials stay out of
// labels (they belong in DataplaneInsights); meshes and backends are few.
import { Counter, Gauge, Histogram, type Registry } from '@meshca/common';
import type { CaClientState, HeldCertificate, IdentityService } from '@meshca/identity';
import type { ZoneLeadership } from './leadership.js';

// Time left on dataplane certificates: from minutes (short-lived certificates, or trouble) to a month.
const TIME_TO_EXPIRY_BUCKETS = [300, 900, 3600, 4 * 3600, 12 * 3600, 86400, 3 * 86400, 7 * 86400, 30 * 86400];

interface MeshSummary {
  /** Lifetime (notAfter - issued) of the certificate that expires first, where this process issued it. */
  earliestLifetime?: number;
  earliest: number;
  due: number;
  overdue: number;
  retrying: number;
  timesLeft: number[];
}

/** Per mesh, over the connected dataplanes: what the dataplane gauges report. */
function summarize(certificates: Iterable<HeldCertificate>, now: number): Map<string, MeshSummary> {
  const out = new Map<string, MeshSummary>();
  for (const c of certificates) {
    let m = out.get(c.mesh);
    if (m === undefined) out.set(c.mesh, (m = { earliest: Infinity, due: 0, overdue: 0, retrying: 0, timesLeft: [] }));
    if (c.failing) m.retrying += 1;
    const { notAfter } = c;
    if (notAfter === undefined) continue;
    m.timesLeft.push((notAfter - now) / 1000);
    if (notAfter <= now) m.overdue += 1;
    else if (c.renewAt !== undefined && c.renewAt <= now) m.due += 1;
    if (notAfter < m.earliest) {
      m.earliest = notAfter;
      if (c.issuedAt !== undefined) m.earliestLifetime = (notAfter - c.issuedAt) / 1000;
      else delete m.earliestLifetime;
    }
  }
  return out;
}

export function registerZoneMetrics(registry: Registry, deps: { identity: () => IdentityService | undefined; kds: ZoneLeadership }): void {
  const stats = () => deps.identity()?.stats();
  // One pass over the dataplanes per scrape, shared by the gauges below (collected one by one).
  let memo: { at: number; meshes: Map<string, MeshSummary> } | undefined;
  const meshes = (): Map<string, MeshSummary> => {
    const now = Date.now();
    if (memo === undefined || now - memo.at > 1000) memo = { at: now, meshes: summarize(deps.identity()?.certificates() ?? [], now) };
    return memo.meshes;
  };
  const perMesh = (name: string, help: string, value: (m: MeshSummary) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ['mesh'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [mesh, m] of meshes()) {
          const v = value(m);
          if (v !== undefined) this.set({ mesh }, v);
        }
      },
    });
  perMesh(
    'meshca_dataplane_cert_earliest_lifetime_seconds',
    'The whole lifetime (notAfter - issued) of the certificate that expires first, per mesh: alerts compare the time left with it.',
    (m) => m.earliestLifetime,
  );
  perMesh(
    'meshca_dataplane_renewals_due',
    'Connected dataplanes past their renewal time whose certificate is not replaced yet (a renewal in flight or retrying).',
    (m) => m.due,
  );
  perMesh('meshca_dataplane_renewals_overdue', 'Connected dataplanes whose certificate expired without a replacement.', (m) => m.overdue);
  perMesh(
    'meshca_issuance_retrying',
    'Connected dataplanes whose last issuance attempt failed and that wait for a retry with backoff.',
    (m) => m.retrying,
  );
  new Histogram({
    name: 'meshca_dataplane_cert_time_to_expiry_seconds',
    help: "Time left on the certificates of this zone process's connected dataplanes at scrape time, per mesh (negative: expired).",
    labelNames: ['mesh'],
    buckets: TIME_TO_EXPIRY_BUCKETS,
    registers: [registry],
    collect() {
      this.reset();
      for (const [mesh, m] of meshes()) for (const left of m.timesLeft) this.observe({ mesh }, left);
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
  perMesh(
    'meshca_dataplane_cert_earliest_expiration_timestamp_seconds',
    'The earliest notAfter among the certificates held by the connected dataplanes of this zone process, per mesh (Unix seconds).',
    (m) => (Number.isFinite(m.earliest) ? m.earliest / 1000 : undefined),
  );
  new Gauge({
    name: 'meshca_ca_cert_expiration_timestamp_seconds',
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

  // The clients of remote CAs (Vault, ACM PCA), per backend.
  const clients = () =>
    (deps.identity()?.backends() ?? []).flatMap((b) =>
      b.client === undefined ? [] : [{ labels: { mesh: b.mesh, backend: b.backend, type: b.type }, client: b.client }],
    );
  const clientGauge = (name: string, help: string, value: (c: CaClientState) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ['mesh', 'backend', 'type'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { labels, client } of clients()) {
          const v = value(client);
          if (v !== undefined) this.set(labels, v);
        }
      },
    });
  clientGauge(
    'meshca_ca_client_requests_in_flight',
    'Requests to the remote CA running now (issuance, roots, token upkeep).',
    (c) => c.inFlight,
  );
  clientGauge('meshca_ca_client_requests_queued', "Requests waiting for one of the backend's in-flight slots.", (c) => c.queued);
  clientGauge(
    'meshca_ca_client_backing_off',
    'Requests sleeping in backoff before their next attempt (ACM PCA; Vault failures are retried by the issuance).',
    (c) => c.backingOff,
  );
  clientGauge(
    'meshca_vault_token_ttl_seconds',
    'Seconds the Vault token has left (absent for tokens that never expire).',
    (c) => c.tokenTtlSeconds,
  );
  new Counter({
    name: 'meshca_ca_client_retries_total',
    help: 'Requests sent again after a failure (throttling, 5xx, network, a refused Vault token) since the backend was opened.',
    labelNames: ['mesh', 'backend', 'type'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { labels, client } of clients()) this.inc(labels, client.retries);
    },
  });
  const kdsCounter = (name: string, help: string, value: (s: ReturnType<ZoneLeadership['status']>) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(value(deps.kds.status()));
      },
    });
  kdsCounter(
    'kds_stream_connects_total',
    'KDS streams this zone process established to global (the first and every reconnect).',
    (s) => s.connects,
  );
  kdsCounter('kds_sent_bytes_total', 'Bytes of KDS messages this zone process sent to global.', (s) => s.bytesSent);
  kdsCounter('kds_received_bytes_total', 'Bytes of KDS messages this zone process received from global.', (s) => s.bytesReceived);
}
