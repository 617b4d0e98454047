// meshca-dp's metrics: its certificate's notAfter and rotations, and reload failures, read from the
// identity handle when Prometheus scrapes.
import { Counter, Gauge, type Registry } from '@meshca/common';
import type { IdentityHandle } from './client.js';

export function registerAgentMetrics(registry: Registry, handle: IdentityHandle, reloads: { failures: number; lastAt?: number }): void {
  new Gauge({
    name: 'meshca_dp_cert_expiration_timestamp_seconds',
    help: 'The notAfter of the certificate this dataplane holds (Unix seconds); absent before its first.',
    registers: [registry],
    collect() {
      this.reset();
      const notAfter = handle.current()?.notAfter;
      if (notAfter !== undefined) this.set(notAfter.getTime() / 1000);
    },
  });
  new Counter({
    name: 'meshca_dp_cert_rotations_total',
    help: 'Certificates this agent received (the first included).',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(handle.status().rotations);
    },
  });
  new Gauge({
    name: 'meshca_dp_last_rotation_timestamp_seconds',
    help: 'When the workload was last told to reload its files (Unix seconds).',
    registers: [registry],
    collect() {
      this.reset();
      if (reloads.lastAt !== undefined) this.set(reloads.lastAt / 1000);
    },
  });
  new Counter({
    name: 'meshca_dp_reload_failures_total',
    help: 'Reload commands that failed and signals that could not be sent.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(reloads.failures);
    },
  });
  new Gauge({
    name: 'meshca_dp_zone_connected',
    help: '1 while the agent is connected to its zone, else 0.',
    registers: [registry],
    collect() {
      this.set(handle.status().connected ? 1 : 0);
    },
  });
}
