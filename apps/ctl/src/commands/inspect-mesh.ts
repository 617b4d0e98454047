import { caStateOfInsight, rotationState, type DataplaneInsightLike, type MeshSpec } from '@meshca/api';
import type { ApiClient } from '../client.js';
import { formatStructured, formatTable, type OutputFormat } from '../output.js';

interface Page<T> {
  items: T[];
  next: string | null;
}

/** Where a CA rotation stands: per backend and zone, how many dataplanes trust it and hold its certificates. */
export async function inspectMesh(client: ApiClient, name: string, opts: { output: OutputFormat }): Promise<void> {
  const { body: mesh } = await client.call<MeshSpec & { name: string }>('GET', `/meshes/${encodeURIComponent(name)}`);
  const insights: DataplaneInsightLike[] = [];
  let path: string | null = `/meshes/${encodeURIComponent(name)}/dataplane-insights`;
  while (path) {
    const { body }: { body: Page<DataplaneInsightLike> } = await client.call('GET', path);
    insights.push(...body.items);
    path = body.next;
  }
  process.stdout.write(renderMeshInspection(name, mesh, insights, opts.output));
}

/** What `meshctl inspect mesh NAME` prints; `now` decides which certificates have expired. */
export function renderMeshInspection(
  name: string,
  mesh: MeshSpec,
  insights: DataplaneInsightLike[],
  output: OutputFormat,
  now: number = Date.now(),
): string {
  const rows = rotationState(
    mesh,
    insights.map((i) => caStateOfInsight(i, now)),
  );
  if (output !== 'table')
    return formatStructured({ mesh: name, enabledBackend: mesh.mtls?.enabledBackend ?? null, backends: rows }, output);
  const head = `Mesh "${name}": enabledBackend ${mesh.mtls?.enabledBackend ?? '(mTLS off)'}\n`;
  if (rows.length === 0) return head + 'no connected dataplanes reported by any zone\n';
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
    )
  );
}
