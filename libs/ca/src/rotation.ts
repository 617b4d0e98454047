import type { FieldError, MeshSpec } from '@meshca/api';

/** What global knows of one dataplane, from the insight its zone reported. */
export interface DataplaneCaState {
  zone: string;
  name: string;
  /** Connected to its zone when the zone last reported. */
  connected: boolean;
  /** Backends whose roots are in the bundle the dataplane holds. */
  bundleBackends: string[];
  /** Backend that issued the certificate it holds, if it holds one. */
  certificateBackend?: string;
}

export interface RotationView {
  dataplanes: DataplaneCaState[];
  /** Zones that are known but not connected to global now: what they hold cannot be checked. */
  offlineZones: string[];
}

export type RotationStep = 'none' | 'add' | 'switch' | 'remove';

export interface RotationCheck {
  step: RotationStep;
  errors: FieldError[];
}

/**
 * The validators of the three-step CA rotation (add a backend, switch `enabledBackend`, remove the
 * old backend): a switch waits until every connected dataplane trusts the new CA; a removal waits
 * until none holds a certificate from the backend being removed. Offline zones block both, since
 * what their dataplanes hold is unknown.
 */
export function checkRotation(previous: MeshSpec | undefined, next: MeshSpec, view: RotationView): RotationCheck {
  const before = previous?.mtls;
  const after = next.mtls;
  if (!before?.enabledBackend || !after?.enabledBackend) return { step: 'none', errors: [] };
  const errors: FieldError[] = [];
  let step: RotationStep = 'none';
  const connected = view.dataplanes.filter((d) => d.connected);

  if (before.enabledBackend !== after.enabledBackend) {
    step = 'switch';
    const target = after.enabledBackend;
    const lagging = connected.filter((d) => !d.bundleBackends.includes(target));
    const problems = [
      ...(lagging.length > 0 ? [`${count(lagging.length)} ${lagging.length === 1 ? 'does' : 'do'} not trust backend "${target}" yet (${perZone(lagging)})`] : []),
      ...offline(view),
    ];
    if (problems.length > 0) {
      errors.push({
        field: 'mtls.enabledBackend',
        message: `cannot switch to "${target}" yet: ${problems.join('; ')}. Add the backend first and wait until every dataplane holds a bundle with it (meshctl inspect mesh), or apply with --force-rotation`,
      });
    }
  }

  const kept = new Set(after.backends.map((b) => b.name));
  for (const removed of before.backends.filter((b) => !kept.has(b.name))) {
    step = step === 'none' ? 'remove' : step;
    const holders = connected.filter((d) => d.certificateBackend === removed.name);
    const problems = [
      ...(holders.length > 0 ? [`${count(holders.length)} still ${holders.length === 1 ? 'holds a certificate' : 'hold certificates'} it issued (${perZone(holders)})`] : []),
      ...offline(view),
    ];
    if (problems.length > 0) {
      errors.push({
        field: 'mtls.backends',
        message: `cannot remove backend "${removed.name}" yet: ${problems.join('; ')}. Switch enabledBackend away from it and wait until those dataplanes are re-issued (meshctl inspect mesh), or apply with --force-rotation`,
      });
    }
  }
  if (step === 'none' && after.backends.some((b) => !before.backends.some((p) => p.name === b.name))) step = 'add';
  return { step, errors };
}

function count(n: number): string {
  return n === 1 ? '1 dataplane' : `${n} dataplanes`;
}

function perZone(dps: DataplaneCaState[]): string {
  const byZone = new Map<string, number>();
  for (const d of dps) byZone.set(d.zone, (byZone.get(d.zone) ?? 0) + 1);
  return [...byZone.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([zone, n]) => `zone "${zone}": ${n}`).join(', ');
}

function offline(view: RotationView): string[] {
  return view.offlineZones.length === 0 ? [] : [`${view.offlineZones.length === 1 ? 'zone' : 'zones'} ${view.offlineZones.map((z) => `"${z}"`).join(', ')} ${view.offlineZones.length === 1 ? 'is' : 'are'} offline, so what its dataplanes trust is unknown`];
}

/** The part of a DataplaneInsight (as zones write it, Kuma's `mTLS` names) the validators read. */
export interface DataplaneInsightLike {
  name: string;
  labels?: Record<string, string>;
  zone?: unknown;
  connected?: unknown;
  mTLS?: { issuedBackend?: string; supportedBackends?: string[] };
}

export function caStateOfInsight(insight: DataplaneInsightLike): DataplaneCaState {
  const zone = typeof insight.zone === 'string' ? insight.zone : insight.labels?.['kuma.io/zone'] ?? 'unknown';
  return {
    zone,
    name: insight.name,
    connected: insight.connected === true,
    bundleBackends: insight.mTLS?.supportedBackends ?? [],
    ...(insight.mTLS?.issuedBackend === undefined ? {} : { certificateBackend: insight.mTLS.issuedBackend }),
  };
}

export interface BackendRotationState {
  backend: string;
  type: string;
  enabled: boolean;
  zone: string;
  /** Connected dataplanes in the zone. */
  dataplanes: number;
  /** Of those, how many hold a bundle with this backend's roots. */
  trusting: number;
  /** Of those, how many hold a certificate this backend issued. */
  holding: number;
}

/** Per backend and zone: how far a rotation has come (what `meshctl inspect mesh` prints). */
export function rotationState(spec: MeshSpec, dataplanes: DataplaneCaState[]): BackendRotationState[] {
  const connected = dataplanes.filter((d) => d.connected);
  const zones = [...new Set(connected.map((d) => d.zone))].sort();
  const rows: BackendRotationState[] = [];
  for (const backend of spec.mtls?.backends ?? []) {
    for (const zone of zones) {
      const inZone = connected.filter((d) => d.zone === zone);
      rows.push({
        backend: backend.name,
        type: backend.type,
        enabled: spec.mtls?.enabledBackend === backend.name,
        zone,
        dataplanes: inZone.length,
        trusting: inZone.filter((d) => d.bundleBackends.includes(backend.name)).length,
        holding: inZone.filter((d) => d.certificateBackend === backend.name).length,
      });
    }
  }
  return rows;
}
