// What global checks of MeshIdentity, MeshTrust and MeshTLS beyond their shape (the references and
// CAs they need, names zones publish under), what it refuses to delete while dataplanes depend on
// it, and the status it shows (from what each zone reports in its ZoneInsight).
import { createHash, X509Certificate } from 'node:crypto';
import {
  meshIdentitySecretRefs,
  meshTrustCertificates,
  ValidationError,
  type FieldError,
  type MeshIdentitySpec,
  type MeshSpec,
  type MeshTrustSpec,
  type Resource,
  type ResourceInput,
  type ResourceKey,
} from '@meshca/api';
import { readableOn, readIdentityCa } from '@meshca/ca';
import { ApiError } from '@meshca/http';
import type { ResourceStore } from '@meshca/store';

const ORIGIN_LABEL = 'kuma.io/origin';
const ZONE_LABEL = 'kuma.io/zone';
const ORIGIN_KRI_LABEL = 'meshca.io/origin-kri';
const IDENTITY_TYPES = new Set(['MeshIdentity', 'MeshTrust', 'MeshTLS']);

/** One MeshIdentity as a zone reports it (ZoneInsight `identities`, see libs/identity). */
interface ZoneIdentityState {
  mesh: string;
  name: string;
  kri: string;
  trustDomain?: string;
  conditions: { type: string; status: string; reason: string; message: string }[];
  caFingerprints?: string[];
  dataplanes: number;
}

async function zoneIdentities(store: ResourceStore): Promise<{ zone: string; state: ZoneIdentityState }[]> {
  const out: { zone: string; state: ZoneIdentityState }[] = [];
  for (const zi of await store.list('ZoneInsight')) {
    const states = (zi.spec as { identities?: unknown }).identities;
    if (!Array.isArray(states)) continue;
    for (const state of states as ZoneIdentityState[]) out.push({ zone: zi.meta.name, state });
  }
  return out;
}

function fingerprints(spec: MeshTrustSpec): string[] {
  return meshTrustCertificates(spec).map((pem) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex'));
}

/** Throws what is wrong with a MeshIdentity, MeshTrust or MeshTLS beyond its shape; nothing is stored then. */
export async function checkIdentityResource(store: ResourceStore, input: ResourceInput, existing: Resource | undefined): Promise<void> {
  const { type, name, mesh } = input.meta;
  if (!IDENTITY_TYPES.has(type) || mesh === undefined) return;
  if (!(await store.get({ type: 'Mesh', name: mesh }))) {
    throw new ValidationError([{ field: 'mesh', message: `mesh "${mesh}" does not exist; apply the Mesh first` }]);
  }
  const errors: FieldError[] = [];
  if (type === 'MeshTrust') {
    if (existing?.meta.labels[ZONE_LABEL] !== undefined) throw publishedByZone(existing);
    const labels = input.meta.labels ?? {};
    for (const label of [ORIGIN_LABEL, ZONE_LABEL]) {
      if (labels[label] !== undefined && !(label === ORIGIN_LABEL && labels[label] === 'global')) {
        errors.push({
          field: `labels["${label}"]`,
          message:
            label === ORIGIN_LABEL
              ? `Operation not allowed. 'kuma.io/origin' label should have 'global' value, got '${labels[label]}': in meshca every MeshTrust is applied on global and reaches every zone (zones publish their own); remove the label`
              : `is set by the zone that publishes a MeshTrust; a MeshTrust applied on global reaches every zone: remove the label`,
        });
      }
    }
    const spec = input.spec as MeshTrustSpec;
    meshTrustCertificates(spec).forEach((pem, i) => {
      try {
        if (!new X509Certificate(pem).ca)
          errors.push({
            field: 'spec.caBundles',
            message: `certificate ${i + 1} is not a CA (basicConstraints CA:TRUE is missing); give CA certificates`,
          });
      } catch {
        errors.push({ field: 'spec.caBundles', message: `certificate ${i + 1} is not a valid X.509 certificate` });
      }
    });
    if (await store.get({ type: 'MeshIdentity', mesh, name })) {
      errors.push({
        field: 'name',
        message: `is the name of MeshIdentity "${name}": zones publish its MeshTrust under that name; choose another name`,
      });
    }
  }
  if (type === 'MeshIdentity') {
    const trust = await store.get({ type: 'MeshTrust', mesh, name });
    if (trust && trust.meta.labels[ZONE_LABEL] === undefined) {
      errors.push({
        field: 'name',
        message: `is the name of MeshTrust "${name}" applied on global, and zones publish this identity's MeshTrust under it; rename one of them`,
      });
    }
    const spec = input.spec as MeshIdentitySpec;
    for (const ref of meshIdentitySecretRefs(spec)) {
      if (!(await store.get({ type: 'Secret', mesh, name: ref.secret }))) {
        errors.push({
          field: ref.field,
          message: `secret "${ref.secret}" does not exist in mesh "${mesh}"; create it first (meshctl apply -f secret.yaml)`,
        });
      }
    }
    const ca = spec.provider?.bundled?.ca;
    // Files and environment variables are the zones' to read; each zone reports them in the status.
    if (errors.length === 0 && ca && readableOn('global', ca.certificate) && readableOn('global', ca.privateKey)) {
      errors.push(...(await readIdentityCa(spec, mesh, (k) => store.get(k))).errors);
    }
  }
  if (errors.length > 0) throw new ValidationError(errors, `${type} cannot be used`);
}

function publishedByZone(r: Resource): ApiError {
  return new ApiError(
    409,
    'Published by a zone',
    `MeshTrust "${r.meta.name}" is published by zone "${r.meta.labels[ZONE_LABEL]}" for its MeshIdentity (${r.meta.labels[ORIGIN_KRI_LABEL] ?? 'unknown'}); it follows that identity: change or delete the MeshIdentity instead`,
  );
}

/** Refuses a delete that would leave dataplanes' certificates untrusted or unrenewed. */
export async function checkIdentityDelete(store: ResourceStore, key: ResourceKey): Promise<void> {
  const { type, name, mesh } = key;
  if (mesh === undefined || (type !== 'MeshTrust' && type !== 'MeshIdentity')) return;
  const existing = await store.get(key);
  if (!existing) return;
  const states = (await zoneIdentities(store)).filter((z) => z.state.mesh === mesh && z.state.dataplanes > 0);
  if (type === 'MeshTrust') {
    if (existing.meta.labels[ZONE_LABEL] !== undefined) throw publishedByZone(existing);
    const mine = new Set(fingerprints(existing.spec as MeshTrustSpec));
    const others = new Set(
      (await store.list('MeshTrust', { mesh })).filter((t) => t.meta.name !== name).flatMap((t) => fingerprints(t.spec as MeshTrustSpec)),
    );
    const broken = states.filter((z) => (z.state.caFingerprints ?? []).some((f) => mine.has(f) && !others.has(f)));
    if (broken.length > 0) {
      throw new ApiError(
        409,
        'MeshTrust in use',
        `MeshTrust "${name}" is the only trust of the CA of ${broken
          .map(
            (z) =>
              `MeshIdentity "${z.state.name}" in zone "${z.zone}" (${z.state.dataplanes} dataplane${z.state.dataplanes === 1 ? '' : 's'})`,
          )
          .join(
            ', ',
          )}: their peers would stop trusting them. Move those dataplanes to another identity first (meshctl inspect mesh ${mesh})`,
      );
    }
  }
  if (type === 'MeshIdentity') {
    const holders = states.filter((z) => z.state.name === name);
    if (holders.length === 0) return;
    const meshSpec = (await store.get({ type: 'Mesh', name: mesh }))?.spec as MeshSpec | undefined;
    const otherIdentities = (await store.list('MeshIdentity', { mesh })).filter((r) => r.meta.name !== name);
    if (meshSpec?.mtls?.enabledBackend === undefined && otherIdentities.length === 0) {
      throw new ApiError(
        409,
        'MeshIdentity in use',
        `MeshIdentity "${name}" issues the certificates of ${holders.map((z) => `zone "${z.zone}": ${z.state.dataplanes}`).join(', ')} dataplanes, and mesh "${mesh}" has nothing else to issue from (no mtls.enabledBackend, no other MeshIdentity): they would not be renewed. Add another MeshIdentity or enable Mesh mTLS first`,
      );
    }
  }
}

/** The `status` global shows for a MeshIdentity or MeshTrust. */
export async function identityStatus(store: ResourceStore, r: Resource): Promise<Record<string, unknown> | undefined> {
  if (r.meta.type === 'MeshTrust') {
    const origin = r.meta.labels[ORIGIN_KRI_LABEL];
    return origin ? { origin: { kri: origin } } : {};
  }
  if (r.meta.type !== 'MeshIdentity') return undefined;
  const zones = (await zoneIdentities(store)).filter((z) => z.state.mesh === r.meta.mesh && z.state.name === r.meta.name);
  const ready = zones.length > 0 && zones.every((z) => z.state.conditions.some((c) => c.type === 'Ready' && c.status === 'True'));
  const notReady = zones.filter((z) => !z.state.conditions.some((c) => c.type === 'Ready' && c.status === 'True'));
  return {
    conditions: [
      zones.length === 0
        ? { type: 'Ready', status: 'False', reason: 'NoZoneReported', message: 'no zone has reported this identity yet' }
        : ready
          ? {
              type: 'Ready',
              status: 'True',
              reason: 'Ready',
              message: `Successfully initialized in ${zones.length} zone${zones.length === 1 ? '' : 's'}`,
            }
          : {
              type: 'Ready',
              status: 'False',
              reason: 'Failure',
              message: `not ready in ${notReady.map((z) => `zone "${z.zone}"`).join(', ')}: ${notReady
                .map((z) => z.state.conditions.find((c) => c.status === 'False')?.message ?? 'not initialized')
                .join('; ')}`,
            },
    ],
    zones: zones.map((z) => ({
      zone: z.zone,
      kri: z.state.kri,
      ...(z.state.trustDomain !== undefined ? { trustDomain: z.state.trustDomain } : {}),
      dataplanes: z.state.dataplanes,
      conditions: z.state.conditions,
    })),
  };
}
