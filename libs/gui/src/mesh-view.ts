// One mesh as the GUI draws it: its backends and their CAs as the zones report them, the rotation
// state of `meshctl inspect mesh`, and (on global) which rotation step the validators would accept
// now and why not, found by asking them about each possible next Mesh.
import {
  caStateOfInsight,
  checkRotation,
  meshTrustKri,
  rotationState,
  type DataplaneInsightLike,
  type MeshInsightSpec,
  type MeshSpec,
  type MeshTrustSpec,
  type Resource,
} from '@meshca/api';
import type { ResourceStore } from '@meshca/store';
import type { BackendView, IdentityView, MeshView, RotationStepView, TrustView } from './contract.js';
import type { GuiSource } from './source.js';

const insightLike = (r: Resource): DataplaneInsightLike => ({
  ...(r.spec as Omit<DataplaneInsightLike, 'name'>),
  name: r.meta.name,
  labels: r.meta.labels,
});

function validationOf(type: string, skip: boolean): string {
  switch (type) {
    case 'builtin':
      return 'CA made by global when the backend was applied';
    case 'provided':
      return 'certificate and key checked by global when applied';
    default:
      return skip ? 'not checked: mtls.skipValidation is set' : 'checked by global with a test certificate when applied';
  }
}

/** What global's validators say of each step that could come next. */
function nextSteps(spec: MeshSpec, view: Parameters<typeof checkRotation>[2]): RotationStepView[] {
  const mtls = spec.mtls;
  const steps: RotationStepView[] = [
    { step: 'add', title: 'add a backend (its CA is trusted by every dataplane before anything switches)', allowed: true, reasons: [] },
  ];
  if (mtls === undefined) return steps;
  for (const b of mtls.backends) {
    if (b.name === mtls.enabledBackend) continue;
    const switched = checkRotation(spec, { ...spec, mtls: { ...mtls, enabledBackend: b.name } }, view);
    steps.push({
      step: 'switch',
      backend: b.name,
      title: `switch enabledBackend to ${b.name}`,
      allowed: switched.errors.length === 0,
      reasons: switched.errors.map((e) => e.message),
    });
    if (mtls.enabledBackend === undefined) continue;
    const removed = checkRotation(spec, { ...spec, mtls: { ...mtls, backends: mtls.backends.filter((x) => x.name !== b.name) } }, view);
    steps.push({
      step: 'remove',
      backend: b.name,
      title: `remove backend ${b.name}`,
      allowed: removed.errors.length === 0,
      reasons: removed.errors.map((e) => e.message),
    });
  }
  return steps;
}

function identitiesOf(mesh: string, zoneInsights: Resource[], identities: Resource[]): IdentityView[] {
  return identities.map((i) => ({
    name: i.meta.name,
    zones: zoneInsights.flatMap((z) => {
      const reported = (z.spec as { identities?: unknown }).identities;
      if (!Array.isArray(reported)) return [];
      return (
        reported as {
          mesh?: string;
          name?: string;
          kri?: string;
          trustDomain?: string;
          dataplanes?: number;
          conditions?: { type: string; status: string; reason?: string }[];
        }[]
      )
        .filter((r) => r.mesh === mesh && r.name === i.meta.name)
        .map((r) => {
          const ready = r.conditions?.find((c) => c.type === 'Ready');
          return {
            zone: z.meta.name,
            kri: r.kri ?? '',
            ...(r.trustDomain !== undefined ? { trustDomain: r.trustDomain } : {}),
            ready: ready?.status === 'True',
            ...(ready !== undefined && ready.status !== 'True' && ready.reason !== undefined ? { reason: ready.reason } : {}),
            dataplanes: r.dataplanes ?? 0,
          };
        });
    }),
  }));
}

function trustsOf(mesh: string, trusts: Resource[], insights: DataplaneInsightLike[], now: number): TrustView[] {
  const states = insights.map((i) => caStateOfInsight(i, now)).filter((d) => d.connected);
  return trusts.map((t) => {
    const kri = meshTrustKri(mesh, t.meta);
    const spec = t.spec as MeshTrustSpec;
    return {
      name: t.meta.name,
      zone: t.meta.labels['kuma.io/zone'] ?? 'global',
      trustDomain: spec.trustDomain,
      cas: spec.caBundles.length,
      trusting: states.filter((d) => d.bundleBackends.includes(kri)).length,
      connected: states.length,
    };
  });
}

export async function meshView(source: GuiSource, name: string): Promise<MeshView | undefined> {
  const store: ResourceStore = source.store;
  const mesh = await store.get({ type: 'Mesh', name });
  if (mesh === undefined) return undefined;
  const spec = mesh.spec as MeshSpec;
  const [insightResources, identities, trusts, zoneInsights, meshInsight, zones] = await Promise.all([
    store.list('DataplaneInsight', { mesh: name }),
    store.list('MeshIdentity', { mesh: name }),
    store.list('MeshTrust', { mesh: name }),
    store.list('ZoneInsight'),
    store.get({ type: 'MeshInsight', name }),
    source.zones(),
  ]);
  const now = Date.now();
  const offline = new Set(source.mode === 'global' ? zones.filter((z) => !z.online).map((z) => z.name) : []);
  const insights = insightResources.map(insightLike);
  const states = insights.map((i) => caStateOfInsight(i, now));
  // Each backend as every zone that runs it reported it (its ZoneInsight).
  const reported = new Map<string, BackendView['zones']>();
  for (const z of zones) {
    for (const b of z.backends) {
      if (b.mesh !== name) continue;
      const list = reported.get(b.backend) ?? [];
      list.push({
        zone: z.name,
        online: !offline.has(z.name),
        available: b.available,
        ...(b.error !== undefined ? { error: b.error } : {}),
        ...(b.ca !== undefined ? { ca: b.ca } : {}),
      });
      reported.set(b.backend, list);
    }
  }
  const skip = spec.mtls?.skipValidation === true;
  const backends: BackendView[] = (spec.mtls?.backends ?? []).map((b) => {
    const inZones = reported.get(b.name) ?? [];
    const ca = inZones.find((z) => z.ca !== undefined)?.ca;
    return {
      name: b.name,
      type: b.type,
      enabled: spec.mtls?.enabledBackend === b.name,
      validation: validationOf(b.type, skip),
      ...(ca !== undefined ? { ca } : {}),
      zones: inZones,
    };
  });
  const pending = (meshInsight?.spec as MeshInsightSpec | undefined)?.mTLS?.pending;
  const view: MeshView = {
    name,
    ...(spec.mtls?.enabledBackend !== undefined ? { enabledBackend: spec.mtls.enabledBackend } : {}),
    skipValidation: skip,
    dataplanes: {
      total: states.length,
      connected: states.filter((d) => d.connected && !offline.has(d.zone)).length,
      inOfflineZones: states.filter((d) => d.connected && offline.has(d.zone)).length,
    },
    offlineZones: [...offline].sort(),
    backends,
    rotation: rotationState(spec, states),
    steps: source.rotationView === undefined ? [] : nextSteps(spec, await source.rotationView(name)),
    identities: identitiesOf(name, zoneInsights, identities),
    trusts: trustsOf(name, trusts, insights, now),
    // Only a mesh with MeshIdentities waits for it; in a Mesh.mtls mesh it would only confuse.
    ...(pending !== undefined && identities.length > 0 ? { pending } : {}),
  };
  return view;
}
