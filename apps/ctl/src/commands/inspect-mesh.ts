import { caStateOfInsight, rotationState, type DataplaneInsightLike } from '@meshca/ca/rotation';
import type { MeshSpec } from '@meshca/api';
import type { ApiClient } from '../client.js';
import { printStructured, printTable, type OutputFormat } from '../output.js';

interface Page<T> {
  items: T[];
  next: string | null;
}

/** Where a CA rotation stands: per backend and zone, how many dataplanes trust it and hold its certificates. */
export async function inspectMesh(client: ApiClient, name: string, opts: { output: OutputFormat }): Promise<void> {
  const { body: mesh } = await client.call<MeshSpec & { name: string }>('GET', `/meshes/${encodeURIComponent(name)}`);
  const insights: (DataplaneInsightLike & { name: string })[] = [];
  let path: string | null = `/meshes/${encodeURIComponent(name)}/dataplane-insights`;
  while (path) {
    const { body }: { body: Page<DataplaneInsightLike & { name: string }> } = await client.call('GET', path);
    insights.push(...body.items);
    path = body.next;
  }
  const rows = rotationState(mesh, insights.map((i) => caStateOfInsight(i)));
  if (opts.output !== 'table') {
    printStructured({ mesh: name, enabledBackend: mesh.mtls?.enabledBackend ?? null, backends: rows }, opts.output);
    return;
  }
  process.stdout.write(`Mesh "${name}": enabledBackend ${mesh.mtls?.enabledBackend ?? '(mTLS off)'}\n`);
  if (rows.length === 0) {
    process.stdout.write('no connected dataplanes reported by any zone\n');
    return;
  }
  printTable(
    ['BACKEND', 'TYPE', 'ENABLED', 'ZONE', 'DATAPLANES', 'TRUST IT', 'HOLD ITS CERT', 'EXPIRED'],
    rows.map((r) => [r.backend, r.type, r.enabled ? 'yes' : '', r.zone, String(r.dataplanes), String(r.trusting), String(r.holding), String(r.expired)]),
  );
}
