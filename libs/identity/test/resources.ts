// What the tests put in a zone's store: Meshes with their builtin CAs, and Dataplane documents.
import type { MeshSpec, Mtls } from '@meshca/api';
import { builtinCaWrites } from '@meshca/ca';
import type { ResourceStore } from '@meshca/store';
import type { DataplaneDocument } from '../src/index.js';
import { log } from './test-zone.js';

/** Applies a Mesh the way global does: the Mesh and its new builtin CA Secrets in one commit. */
export async function applyMesh(store: ResourceStore, mesh: string, mtls: Mtls | undefined): Promise<void> {
  const spec: MeshSpec = mtls ? { mtls } : {};
  const existing = await store.get({ type: 'Mesh', name: mesh });
  const input = { meta: { type: 'Mesh' as const, name: mesh }, spec };
  await store.commit([
    ...(await builtinCaWrites({ store, mesh, spec, log })),
    existing ? { op: 'update', input, expectedVersion: existing.meta.version } : { op: 'create', input },
  ]);
}

export function builtin(name: string, expiration?: string): Mtls['backends'][number] {
  return { name, type: 'builtin', ...(expiration ? { dpCert: { rotation: { expiration } } } : {}), conf: {} };
}

export function dataplane(name: string, tags: Record<string, string>, mesh = 'default'): DataplaneDocument {
  return { type: 'Dataplane', mesh, name, networking: { address: '10.0.0.1', inbound: [{ port: 8080, tags }] } };
}
