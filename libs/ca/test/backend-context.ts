// What a CA backend is opened and asked with in these tests: a BackendContext over mesh Secrets,
// and the identity of a dataplane to issue for.
import type { DataSource, Resource, ResourceKey } from '@meshca/api';
import type { BackendContext, DataplaneIdentity } from '../src/index.js';
import { createDataSourceReader } from '../src/index.js';

/** A BackendContext over an in-memory set of mesh Secrets (name -> text). */
export function contextWith(
  backend: { name: string; type: 'builtin' | 'provided'; conf: Record<string, unknown> },
  secrets: Record<string, string> = {},
  mesh = 'default',
): BackendContext {
  const get = async (key: ResourceKey): Promise<Resource | undefined> => {
    const text = key.type === 'Secret' && key.mesh === mesh ? secrets[key.name] : undefined;
    if (text === undefined) return undefined;
    const now = new Date().toISOString();
    return {
      meta: { ...key, labels: {}, creationTime: now, modificationTime: now, version: 1 },
      spec: { data: Buffer.from(text).toString('base64') },
    };
  };
  return { mesh, backend: backend, readDataSource: createDataSourceReader(get, mesh) };
}

export const secret = (name: string): DataSource => ({ secret: name });

export const webIdentity: DataplaneIdentity = {
  mesh: 'default',
  name: 'web-1',
  tags: { 'kuma.io/service': ['web'], version: ['v1'] },
};
