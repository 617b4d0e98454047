// The zone's state metrics, from what the identity service and the KDS stream report, as
// Prometheus reads them (the text exposition).
import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '@meshca/common';
import type { BackendState, DataplaneCertState, IdentityService } from '@meshca/identity';
import type { ZoneLeadership } from '../src/leadership.js';
import { registerZoneMetrics } from '../src/metrics.js';

const now = Date.now();
const iso = (offsetSeconds: number) => new Date(now + offsetSeconds * 1000).toISOString();

/** A dataplane of mesh `default` issued `age` seconds ago with a `lifetime`, renewal at 80%. */
function dp(name: string, age: number, lifetime: number, extra: Partial<DataplaneCertState> = {}): DataplaneCertState {
  return {
    mesh: 'default',
    name,
    connected: true,
    notAfter: iso(lifetime - age),
    issuedAt: iso(-age),
    renewalAt: iso(0.8 * lifetime - age),
    ...extra,
  };
}

async function scrape(dataplanes: DataplaneCertState[], backends: BackendState[] = []): Promise<string> {
  const registry = createMetricsRegistry();
  const identity = {
    certificates: () =>
      dataplanes
        .filter((d) => d.connected)
        .map((d) => ({
          mesh: d.mesh,
          notAfter: d.notAfter === undefined ? undefined : Date.parse(d.notAfter),
          renewAt: d.renewalAt === undefined ? undefined : Date.parse(d.renewalAt),
          issuedAt: d.issuedAt === undefined ? undefined : Date.parse(d.issuedAt),
          failing: d.lastError !== undefined,
        })),
    backends: () => backends,
    stats: () => ({ connected: dataplanes.length, known: dataplanes.length, issued: 0, failed: 0, queued: 0 }),
  } as unknown as IdentityService;
  const kds = {
    status: () => ({
      connected: true,
      lastRevision: 7,
      failures: 0,
      nacks: [],
      refused: [],
      connects: 3,
      bytesSent: 1200,
      bytesReceived: 5400,
    }),
  } as unknown as ZoneLeadership;
  registerZoneMetrics(registry, { identity: () => identity, kds });
  return registry.metrics();
}

const value = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('zone metrics', () => {
  it('renewals due and overdue, retries, the time-to-expiry histogram, the lifetime of the first to expire', async () => {
    const text = await scrape([
      dp('fresh', 60, 3600), // 59 min left
      dp('due', 3000, 3600), // past 80%: due, 10 min left
      dp('expired', 4000, 3600, { lastError: { message: 'CA down', at: iso(-10) } }), // expired 400 s ago
      dp('gone', 4000, 3600, { connected: false }), // disconnected: not counted
      dp('long', 60, 86400), // 24 h
    ]);
    expect(value(text, 'meshca_dataplane_renewals_due{mesh="default"}')).toBe(1);
    expect(value(text, 'meshca_dataplane_renewals_overdue{mesh="default"}')).toBe(1);
    expect(value(text, 'meshca_issuance_retrying{mesh="default"}')).toBe(1);
    // The first to expire is the expired one, issued for an hour.
    expect(value(text, 'meshca_dataplane_cert_earliest_lifetime_seconds{mesh="default"}')).toBe(3600);
    // Time left: -400 s, 600 s, 3540 s, 86340 s.
    expect(value(text, 'meshca_dataplane_cert_time_to_expiry_seconds_bucket{le="300",mesh="default"}')).toBe(1);
    expect(value(text, 'meshca_dataplane_cert_time_to_expiry_seconds_bucket{le="900",mesh="default"}')).toBe(2);
    expect(value(text, 'meshca_dataplane_cert_time_to_expiry_seconds_bucket{le="3600",mesh="default"}')).toBe(3);
    expect(value(text, 'meshca_dataplane_cert_time_to_expiry_seconds_bucket{le="86400",mesh="default"}')).toBe(4);
    expect(value(text, 'meshca_dataplane_cert_time_to_expiry_seconds_count{mesh="default"}')).toBe(4);
    expect(text).not.toMatch(/fresh|expired"|"gone/); // dataplane names stay out of labels
  });

  it('a certificate this process did not issue (held across a restart) has no lifetime to report', async () => {
    const held = dp('held', 60, 3600);
    delete held.issuedAt;
    const text = await scrape([held, dp('later', 60, 7200)]);
    expect(value(text, 'meshca_dataplane_cert_earliest_lifetime_seconds{mesh="default"}')).toBeUndefined();
    expect(value(text, 'meshca_dataplane_renewals_due{mesh="default"}')).toBe(0);
  });

  it("a remote CA's client: in flight, queued, retries, backoff, the Vault token's TTL; local CAs have none", async () => {
    const text = await scrape(
      [],
      [
        {
          mesh: 'default',
          backend: 'vault-1',
          type: 'vault',
          unavailable: false,
          client: { inFlight: 2, queued: 5, retries: 3, backingOff: 0, tokenTtlSeconds: 1800 },
        },
        { mesh: 'default', backend: 'ca-1', type: 'builtin', unavailable: false },
      ],
    );
    const l = '{mesh="default",backend="vault-1",type="vault"}';
    expect(value(text, `meshca_ca_client_requests_in_flight${l}`)).toBe(2);
    expect(value(text, `meshca_ca_client_requests_queued${l}`)).toBe(5);
    expect(value(text, `meshca_ca_client_retries_total${l}`)).toBe(3);
    expect(value(text, `meshca_ca_client_backing_off${l}`)).toBe(0);
    expect(value(text, `meshca_vault_token_ttl_seconds${l}`)).toBe(1800);
    expect(text).not.toMatch(/meshca_ca_client_requests_in_flight\{[^}]*ca-1/);
  });

  it("the KDS stream's reconnects and message bytes", async () => {
    const text = await scrape([]);
    expect(value(text, 'kds_stream_connects_total')).toBe(3);
    expect(value(text, 'kds_sent_bytes_total')).toBe(1200);
    expect(value(text, 'kds_received_bytes_total')).toBe(5400);
    expect(value(text, 'kds_last_revision')).toBe(7);
  });
});
