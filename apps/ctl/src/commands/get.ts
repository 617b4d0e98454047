import { itemPath, MESH_SCOPED } from '@meshca/api';
import { ApiCallError, type ApiClient } from '../client.js';
import { listAll } from '../paging.js';
import { renderResources } from '../columns.js';
import { collectionPath, resolveKind } from '../kinds.js';
import { printStructured, type OutputFormat } from '../output.js';

export interface GetFlags {
  mesh: string;
  output: OutputFormat;
}

export async function getCommand(client: ApiClient, kind: string, name: string | undefined, flags: GetFlags): Promise<void> {
  const { type, route } = resolveKind(kind);
  const mesh = MESH_SCOPED.has(type) ? flags.mesh : undefined;
  if (name !== undefined) {
    let body: Record<string, unknown>;
    try {
      ({ body } = await client.call<Record<string, unknown>>('GET', itemPath(type, name, mesh)));
    } catch (err) {
      if (err instanceof ApiCallError && err.status === 404 && mesh !== undefined) await assertMeshExists(client, mesh);
      throw err;
    }
    if (flags.output === 'table') process.stdout.write(renderResources(type, [body]));
    else printStructured(body, flags.output);
    return;
  }
  const items = await listAll<Record<string, unknown>>(client, collectionPath(route, flags.mesh));
  // An empty list of a mesh that does not exist is a typo, not an answer.
  if (items.length === 0 && mesh !== undefined) await assertMeshExists(client, mesh);
  if (flags.output === 'table') process.stdout.write(renderResources(type, items));
  else printStructured({ total: items.length, items }, flags.output);
}

async function assertMeshExists(client: ApiClient, mesh: string): Promise<void> {
  try {
    await client.call('GET', itemPath('Mesh', mesh));
  } catch (err) {
    if (err instanceof ApiCallError && err.status === 404) throw new Error(`mesh "${mesh}" does not exist; see meshctl get meshes`);
    throw err;
  }
}

export async function deleteCommand(client: ApiClient, kind: string, name: string, flags: { mesh: string }): Promise<void> {
  const { type } = resolveKind(kind);
  const mesh = MESH_SCOPED.has(type) ? flags.mesh : undefined;
  await client.call('DELETE', itemPath(type, name, mesh));
  process.stdout.write(`${type} "${name}"${mesh ? ` in mesh "${mesh}"` : ''} deleted\n`);
}
