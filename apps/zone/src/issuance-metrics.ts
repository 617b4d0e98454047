// The zone's issuance metrics, counted as issuance goes (the identity service's observer): per
// mesh and backend, certificates issued, attempts failed by reason, and how long the CA took.
import { Counter, Gauge, Histogram, type Registry } from '@meshca/common';
import type { IssuanceObserver, IssuanceTarget } from '@meshca/identity';

// From a local signature (milliseconds) to a slow remote CA near its request timeout.
const CA_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createIssuanceMetrics(registry: Registry): IssuanceObserver {
  const labelNames = ['mesh', 'backend', 'type'] as const;
  const issued = new Counter({
    name: 'cert_generation_total',
    help: 'Dataplane certificates issued by this zone process, per mesh and backend (as Kuma names it).',
    labelNames,
    registers: [registry],
  });
  const failed = new Counter({
    name: 'cert_generation_failure_total',
    help: 'Dataplane certificate issuance attempts that failed, per mesh, backend (empty before one was chosen) and reason.',
    labelNames: ['mesh', 'backend', 'reason'],
    registers: [registry],
  });
  const getCert = new Histogram({
    name: 'ca_manager_get_cert_seconds',
    help: 'How long the CA took to issue a dataplane certificate (ok or not), per mesh and backend (Kuma: ca_manager_get_cert).',
    labelNames,
    buckets: CA_SECONDS_BUCKETS,
    registers: [registry],
  });
  const getRoots = new Histogram({
    name: 'ca_manager_get_root_cert_chain_seconds',
    help: "How long reading a backend's root chain took when it was opened (Kuma: ca_manager_get_root_cert_chain).",
    labelNames,
    buckets: CA_SECONDS_BUCKETS,
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: 'meshca_issuances_in_flight',
    help: 'Dataplane certificate requests at the CA now, per mesh and backend.',
    labelNames,
    registers: [registry],
  });

  const labels = (t: IssuanceTarget) => ({ mesh: t.mesh, backend: t.backend, type: t.type });
  // In flight per backend; a series back at 0 is removed, so a backend taken out of its mesh
  // does not linger as a gauge of a CA that no longer exists.
  const calls = new Map<string, number>();
  return {
    caCall(target) {
      const l = labels(target);
      const k = `${l.mesh}\n${l.backend}\n${l.type}`;
      calls.set(k, (calls.get(k) ?? 0) + 1);
      inFlight.set(l, calls.get(k) ?? 0);
      const end = getCert.startTimer(l);
      return (ok) => {
        end();
        const left = (calls.get(k) ?? 1) - 1;
        if (left === 0) {
          calls.delete(k);
          inFlight.remove(l);
        } else {
          calls.set(k, left);
          inFlight.set(l, left);
        }
        if (ok) issued.inc(l);
      };
    },
    rootsCall(target) {
      const end = getRoots.startTimer(labels(target));
      return () => end();
    },
    failed(mesh, target, reason) {
      failed.inc({ mesh, backend: target?.backend ?? '', reason });
    },
  };
}
