import { itemPath, MESH_SCOPED } from '@meshca/api';
import type { ApiClient } from '../client.js';
import { columnsFor } from '../columns.js';
import { collectionPath, resolveKind } from '../kinds.js';
import { printStructured, printTable, type OutputFormat } from '../output.js';

export interface GetFlags {
  mesh: string;
  output: OutputFormat;
}

interface Page {
  total: number;
  items: Record<string, unknown>[];
  next: string | null;
}

export async function getCommand(client: ApiClient, kind: string, name: string | undefined, flags: GetFlags): Promise<void> {
  const { type, route } = resolveKind(kind);
  const mesh = MESH_SCOPED.has(type) ? flags.mesh : undefined;
  if (name !== undefined) {
    const { body } = await client.call<Record<string, unknown>>('GET', itemPath(type, name, mesh));
    if (flags.output === 'table') printTable(columnsFor(type).map(([h]) => h), [columnsFor(type).map(([, cell]) => cell(body))]);
    else printStructured(body, flags.output);
    return;
  }
  const items: Record<string, unknown>[] = [];
  let path: string | null = collectionPath(route, flags.mesh);
  while (path) {
    const { body }: { body: Page } = await client.call<Page>('GET', path);
    items.push(...body.items);
    path = body.next;
  }
  if (flags.output === 'table') {
    const cols = columnsFor(type);
    printTable(cols.map(([h]) => h), items.map((item) => cols.map(([, cell]) => cell(item))));
  } else {
    printStructured({ total: items.length, items }, flags.output);
  }
}

export async function deleteCommand(client: ApiClient, kind: string, name: string, flags: { mesh: string }): Promise<void> {
  const { type } = resolveKind(kind);
  const mesh = MESH_SCOPED.has(type) ? flags.mesh : undefined;
  await client.call('DELETE', itemPath(type, name, mesh));
  process.stdout.write(`${type} "${name}"${mesh ? ` in mesh "${mesh}"` : ''} deleted\n`);
}
