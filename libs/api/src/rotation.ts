import type { FieldError } from './errors.js';
import type { MeshSpec } from './types.js';

/** What global knows of one dataplane, from the insight its zone reported. */
export interface DataplaneCaState {
  zone: string;
  name: string;
  /** Connected to its zone when the zone last reported. */
  connected: boolean;
  /** Backends whose roots are in the bundle the dataplane holds. */
  bundleBackends: string[];
  /** Backend that issued the certificate it holds, if it holds one that has not expired. */
  certificateBackend?: string;
  /** Backend that issued the certificate it holds, when that certificate has expired. */
  expiredBackend?: string;
}

export interface RotationView {
  dataplanes: DataplaneCaState[];
  /** Zones that are known but not connected to global now: what they hold cannot be checked. */
  offlineZones: string[];
}

export type RotationStep = 'none' | 'add' | 'switch' | 'disable' | 'remove';

export interface RotationCheck {
  step: RotationStep;
  errors: FieldError[];
}

/**
 * The validators of the three-step CA rotation (add a backend, switch `enabledBackend`, remove the
 * old backend): a switch waits until every connected dataplane trusts the new CA; a removal waits
 * until none holds a certificate from the backend being removed. Turning mTLS off (unsetting
 * `enabledBackend`, or dropping `mtls` and so every backend) is checked the same way: Kuma
 * forbids disabling mTLS by accident too. Offline zones block all of them, since what their
 * dataplanes hold is unknown.
 */
export function checkRotation(previous: MeshSpec | undefined, next: MeshSpec, view: RotationView): RotationCheck {
  const before = previous?.mtls;
  const after = next.mtls;
  // A new Mesh, or mTLS turned on: nothing can hold its certificates yet.
  if (!before?.enabledBackend) return { step: 'none', errors: [] };
  const errors: FieldError[] = [];
  let step: RotationStep = 'none';
  // The step a refusal is about: a Mesh that switches and removes at once may fail on the removal only.
  let refused: RotationStep | undefined;
  const connected = view.dataplanes.filter((d) => d.connected);
  const kept = new Set((after?.backends ?? []).map((b) => b.name));

  if (after?.enabledBackend !== undefined && before.enabledBackend !== after.enabledBackend) {
    step = 'switch';
    const target = after.enabledBackend;
    const lagging = connected.filter((d) => !d.bundleBackends.includes(target));
    const problems = [
      ...(lagging.length > 0
        ? [`${count(lagging.length)} ${lagging.length === 1 ? 'does' : 'do'} not trust backend "${target}" yet (${perZone(lagging)})`]
        : []),
      ...offline(view),
    ];
    if (problems.length > 0) {
      refused ??= 'switch';
      errors.push({
        field: 'mtls.enabledBackend',
        message: `cannot switch to "${target}" yet: ${problems.join('; ')}. Add the backend first and wait until every dataplane holds a bundle with it (meshctl inspect mesh), or apply with --force-rotation`,
      });
    }
  }

  if (after?.enabledBackend === undefined && kept.has(before.enabledBackend)) {
    // mTLS off with the backends kept: the holders of the enabled backend's certificates stop being renewed.
    step = 'disable';
    const problems = holdersOf(before.enabledBackend, connected, view, `backend "${before.enabledBackend}"`);
    if (problems.length > 0) {
      refused ??= 'disable';
      errors.push({
        field: after === undefined ? 'mtls' : 'mtls.enabledBackend',
        message: `cannot turn mTLS off yet: ${problems.join('; ')}, and they would no longer be renewed. Set enabledBackend again, or apply with --force-rotation to turn mTLS off anyway`,
      });
    }
  }

  for (const removed of before.backends.filter((b) => !kept.has(b.name))) {
    step = step === 'none' ? 'remove' : step;
    const problems = holdersOf(removed.name, connected, view);
    if (problems.length > 0) {
      refused ??= 'remove';
      // Still the enabled one: the switch comes first. Already switched: only the re-issue is left.
      const next =
        removed.name === before.enabledBackend || after?.enabledBackend === undefined
          ? 'Switch enabledBackend away from it and wait until those dataplanes are re-issued'
          : `Wait until those dataplanes are re-issued from "${after.enabledBackend}"`;
      errors.push({
        field: after === undefined ? 'mtls' : 'mtls.backends',
        message: `cannot remove backend "${removed.name}" yet${after === undefined ? ' (a Mesh without mtls removes every backend)' : ''}: ${problems.join('; ')}. ${next} (meshctl inspect mesh), or apply with --force-rotation`,
      });
    }
  }
  if (step === 'none' && (after?.backends ?? []).some((b) => !before.backends.some((p) => p.name === b.name))) step = 'add';
  return { step: refused ?? step, errors };
}

/** Why `backend` cannot go yet: connected dataplanes holding its certificates, and offline zones. */
function holdersOf(backend: string, connected: DataplaneCaState[], view: RotationView, issuer = 'it'): string[] {
  const holders = connected.filter((d) => d.certificateBackend === backend);
  return [
    ...(holders.length > 0
      ? [
          `${count(holders.length)} still ${holders.length === 1 ? 'holds a certificate' : 'hold certificates'} ${issuer} issued (${perZone(holders)})`,
        ]
      : []),
    ...offline(view),
  ];
}

function count(n: number): string {
  return n === 1 ? '1 dataplane' : `${n} dataplanes`;
}

/** `zone "east": 2 (east.web-1, east.web-2)`: which dataplanes, so the operator can look at them. */
function perZone(dps: DataplaneCaState[]): string {
  const byZone = new Map<string, string[]>();
  for (const d of dps) byZone.set(d.zone, [...(byZone.get(d.zone) ?? []), d.name]);
  return [...byZone.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([zone, names]) => {
      const sorted = names.sort();
      const shown = sorted.slice(0, 5).join(', ') + (sorted.length > 5 ? ` and ${sorted.length - 5} more` : '');
      return `zone "${zone}": ${names.length} (${shown})`;
    })
    .join(', ');
}

function offline(view: RotationView): string[] {
  return view.offlineZones.length === 0
    ? []
    : [
        `${view.offlineZones.length === 1 ? 'zone' : 'zones'} ${view.offlineZones.map((z) => `"${z}"`).join(', ')} ${view.offlineZones.length === 1 ? 'is' : 'are'} offline, so what its dataplanes trust is unknown`,
      ];
}

/** The part of a DataplaneInsight (as zones write it, Kuma's `mTLS` names) the validators read. */
export interface DataplaneInsightLike {
  name: string;
  labels?: Record<string, string>;
  zone?: unknown;
  connected?: unknown;
  mTLS?: { issuedBackend?: string; supportedBackends?: string[]; certificateExpirationTime?: string } | undefined;
}

/** An expired certificate is not counted as held: it protects nothing and blocks no removal. */
export function caStateOfInsight(insight: DataplaneInsightLike, now: number = Date.now()): DataplaneCaState {
  const zone = typeof insight.zone === 'string' ? insight.zone : (insight.labels?.['kuma.io/zone'] ?? 'unknown');
  const issued = insight.mTLS?.issuedBackend;
  const notAfter = Date.parse(insight.mTLS?.certificateExpirationTime ?? '');
  const expired = issued !== undefined && Number.isFinite(notAfter) && notAfter <= now;
  return {
    zone,
    name: insight.name,
    connected: insight.connected === true,
    bundleBackends: insight.mTLS?.supportedBackends ?? [],
    ...(issued === undefined ? {} : expired ? { expiredBackend: issued } : { certificateBackend: issued }),
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
  /** Of those, how many hold a certificate this backend issued (and that has not expired). */
  holding: number;
  /** Of those, how many hold a certificate this backend issued that has expired. */
  expired: number;
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
        expired: inZone.filter((d) => d.expiredBackend === backend.name).length,
      });
    }
  }
  return rows;
}
