import {
  caStateOfInsight,
  meshTrustKri,
  rotationState,
  type DataplaneInsightLike,
  type MeshInsightSpec,
  type MeshSpec,
  type MeshTrustSpec,
} from '@meshca/api';
import type { ApiClient } from '../client.js';
import { listAll } from '../paging.js';
import { formatStructured, formatTable, type OutputFormat } from '../output.js';

/** A MeshIdentity as global shows it: its status has one entry per zone that runs it. */
export interface IdentityItem {
  name: string;
  status?: {
    zones?: {
      zone: string;
      kri: string;
      trustDomain?: string;
      dataplanes: number;
      conditions: { type: string; status: string; reason: string }[];
    }[];
  };
}

export interface TrustItem {
  name: string;
  labels: Record<string, string>;
  spec: MeshTrustSpec;
}

/** What else a mesh holds besides its Mesh.mtls backends: identities, trusts, and global's view of them. */
export interface WorkloadIdentityView {
  identities: IdentityItem[];
  trusts: TrustItem[];
  insight?: MeshInsightSpec;
}

/**
 * Where a CA rotation stands (per backend and zone, how many dataplanes trust it and hold its
 * certificates), and where a move to MeshIdentity stands (per identity and zone, and per MeshTrust).
 */
export async function inspectMesh(client: ApiClient, name: string, opts: { output: OutputFormat }): Promise<void> {
  const m = encodeURIComponent(name);
  const { body: mesh } = await client.call<MeshSpec & { name: string }>('GET', `/meshes/${m}`);
  const [insights, identities, trusts] = await Promise.all([
    listAll<DataplaneInsightLike>(client, `/meshes/${m}/dataplane-insights`),
    listAll<IdentityItem>(client, `/meshes/${m}/meshidentities`),
    listAll<TrustItem>(client, `/meshes/${m}/meshtrusts`),
  ]);
  const insight = await client.call<MeshInsightSpec>('GET', `/mesh-insights/${m}`).then(
    (r) => r.body,
    () => undefined,
  );
  process.stdout.write(
    renderMeshInspection(name, mesh, insights, opts.output, Date.now(), { identities, trusts, ...(insight ? { insight } : {}) }),
  );
}

function connectedTrusting(insights: DataplaneInsightLike[], kri: string, now: number): { trusting: number; connected: number } {
  const states = insights.map((i) => caStateOfInsight(i, now)).filter((d) => d.connected);
  return { trusting: states.filter((d) => d.bundleBackends.includes(kri)).length, connected: states.length };
}

function workloadIdentityRows(name: string, insights: DataplaneInsightLike[], view: WorkloadIdentityView, now: number) {
  const identities = view.identities.flatMap((i) =>
    (i.status?.zones ?? []).map((z) => ({
      identity: i.name,
      zone: z.zone,
      trustDomain: z.trustDomain ?? '-',
      ready:
        z.conditions.find((c) => c.type === 'Ready')?.status === 'True'
          ? 'True'
          : `False (${z.conditions.find((c) => c.type === 'Ready')?.reason ?? '?'})`,
      holding: z.dataplanes,
    })),
  );
  const trusts = view.trusts.map((t) => {
    const kri = meshTrustKri(name, t);
    const { trusting, connected } = connectedTrusting(insights, kri, now);
    return {
      meshTrust: t.name,
      zone: t.labels['kuma.io/zone'] ?? 'global',
      trustDomain: t.spec.trustDomain,
      cas: t.spec.caBundles.length,
      trusting,
      connected,
    };
  });
  return { identities, trusts };
}

/** What `meshctl inspect mesh NAME` prints; `now` decides which certificates have expired. */
export function renderMeshInspection(
  name: string,
  mesh: MeshSpec,
  insights: DataplaneInsightLike[],
  output: OutputFormat,
  now: number = Date.now(),
  view: WorkloadIdentityView = { identities: [], trusts: [] },
): string {
  const wi = workloadIdentityRows(name, insights, view, now);
  const rows = rotationState(
    mesh,
    insights.map((i) => caStateOfInsight(i, now)),
  );
  if (output !== 'table') {
    return formatStructured(
      {
        mesh: name,
        enabledBackend: mesh.mtls?.enabledBackend ?? null,
        backends: rows,
        identities: wi.identities,
        meshTrusts: wi.trusts,
        ...(view.insight?.mTLS.pending !== undefined ? { pending: view.insight.mTLS.pending } : {}),
      },
      output,
    );
  }
  const head = `Mesh "${name}": enabledBackend ${mesh.mtls?.enabledBackend ?? '(mTLS off)'}\n`;
  const identitySection =
    wi.identities.length === 0 && wi.trusts.length === 0
      ? ''
      : '\n' +
        (wi.identities.length === 0
          ? ''
          : formatTable(
              ['MESHIDENTITY', 'ZONE', 'TRUST DOMAIN', 'READY', 'HOLD ITS CERT'],
              wi.identities.map((r) => [r.identity, r.zone, r.trustDomain, r.ready, String(r.holding)]),
            )) +
        (wi.trusts.length === 0
          ? ''
          : (wi.identities.length === 0 ? '' : '\n') +
            formatTable(
              ['MESHTRUST', 'ZONE', 'TRUST DOMAIN', 'CAS', 'TRUSTED BY'],
              wi.trusts.map((t) => [t.meshTrust, t.zone, t.trustDomain, String(t.cas), `${t.trusting}/${t.connected}`]),
            )) +
        (view.insight?.mTLS.pending !== undefined ? `\npending: ${view.insight.mTLS.pending}\n` : '');
  if (rows.length === 0) {
    const none = (mesh.mtls?.backends ?? []).length === 0 ? 'no Mesh.mtls backends\n' : 'no connected dataplanes reported by any zone\n';
    return head + none + identitySection;
  }
  return (
    head +
    formatTable(
      ['BACKEND', 'TYPE', 'ENABLED', 'ZONE', 'DATAPLANES', 'TRUST IT', 'HOLD ITS CERT', 'EXPIRED'],
      rows.map((r) => [
        r.backend,
        r.type,
        r.enabled ? 'yes' : '',
        r.zone,
        String(r.dataplanes),
        String(r.trusting),
        String(r.holding),
        String(r.expired),
      ]),
    ) +
    identitySection
  );
}
