// Keys and references: what a resource is called in the store, and which Secrets a Mesh needs.
import { dataSourceSecret } from './datasource.js';
import { at, isRecord } from './fields.js';
import { MESH_SCOPED, type ResourceInput, type ResourceKey } from './types.js';

/** The store key of a resource: mesh only for mesh-scoped types. */
export function resourceKey(input: Pick<ResourceInput, 'meta'>): ResourceKey {
  const { type, name, mesh } = input.meta;
  return MESH_SCOPED.has(type) && mesh !== undefined ? { type, name, mesh } : { type, name };
}

/** `Mesh/default`, `Secret/default/sec-1`: one string per key, for maps and logs. */
export function keyString(key: ResourceKey): string {
  return key.mesh === undefined ? `${key.type}/${key.name}` : `${key.type}/${key.mesh}/${key.name}`;
}

function walk(v: unknown, path: string, out: { field: string; secret: string }[]): void {
  const secret = dataSourceSecret(v);
  if (secret !== undefined) {
    out.push({ field: path, secret });
    return;
  }
  if (Array.isArray(v)) v.forEach((item, i) => walk(item, at(path, i), out));
  else if (isRecord(v)) for (const [k, child] of Object.entries(v)) walk(child, at(path, k), out);
}

/**
 * Every `secret:` DataSource a Mesh's mtls backends reference, in document order
 * (the control plane checks each names a Secret of the mesh or a GlobalSecret). Empty for other types.
 */
export function secretReferences(input: ResourceInput): { field: string; secret: string }[] {
  const out: { field: string; secret: string }[] = [];
  if (input.meta.type !== 'Mesh' || !isRecord(input.spec)) return out;
  const mtls = input.spec.mtls;
  if (!isRecord(mtls) || !Array.isArray(mtls.backends)) return out;
  mtls.backends.forEach((b: unknown, i) => {
    if (isRecord(b)) walk(b.conf, `mtls.backends[${i}].conf`, out);
  });
  return out;
}
