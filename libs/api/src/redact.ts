// What a read without the admin token may see of a Mesh: DataSources under secret-bearing fields
// (a provided CA's key, a Vault token, ACM keys) keep their kind but not their inline content.
import type { Resource } from './types.js';
import { at, isRecord, isSecretField } from './fields.js';

export const REDACTED = '<redacted: read with the admin token>';

/** A copy of the resource with inline secret material replaced by REDACTED (other types unchanged). */
export function redactInlineSecrets(resource: Resource): Resource {
  if (resource.meta.type !== 'Mesh') return resource;
  return { ...resource, spec: walk(resource.spec, '') as Resource['spec'] };
}

function walk(v: unknown, path: string): unknown {
  if (Array.isArray(v)) return v.map((x, i) => walk(x, at(path, i)));
  if (!isRecord(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const inline = (k === 'inline' || k === 'inlineString') && typeof x === 'string';
    out[k] = inline && isSecretField(path) ? REDACTED : walk(x, at(path, k));
  }
  return out;
}
