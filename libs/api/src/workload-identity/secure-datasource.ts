// Kuma's SecureDataSource (MeshIdentity's CA): `type` names which one of secretRef, file, envVar or
// insecureInline holds the material.
import { mapping, text } from '../checks.js';
import type { FieldError } from '../errors.js';
import { at, describe, isRecord } from '../fields.js';
import { nameProblem } from '../names.js';

export type SecureDataSource =
  | { type: 'Secret'; secretRef: { kind: 'Secret'; name: string } }
  | { type: 'File'; file: { path: string } }
  | { type: 'EnvVar'; envVar: { name: string } }
  | { type: 'InsecureInline'; insecureInline: { value: string } };

export const SECURE_DATA_SOURCE_TYPES = ['Secret', 'File', 'EnvVar', 'InsecureInline'] as const;
const BLOCK = { Secret: 'secretRef', File: 'file', EnvVar: 'envVar', InsecureInline: 'insecureInline' } as const;

/** Pushes what is wrong with the SecureDataSource at `path`; never quotes inline content. */
export function validateSecureDataSource(v: unknown, path: string, errors: FieldError[]): void {
  const ds = mapping(v, path, ['type', ...Object.values(BLOCK)], errors, 'a data source');
  if (!ds) return;
  const type = ds.type;
  if (typeof type !== 'string' || !(SECURE_DATA_SOURCE_TYPES as readonly string[]).includes(type)) {
    errors.push({
      field: at(path, 'type'),
      message: `must be one of ${SECURE_DATA_SOURCE_TYPES.join(', ')} (got ${describe(type, at(path, 'type'))}); Secret with secretRef.name is the usual one`,
    });
    return;
  }
  const block = BLOCK[type as keyof typeof BLOCK];
  for (const other of Object.values(BLOCK)) {
    if (other !== block && ds[other] !== undefined) {
      errors.push({ field: at(path, other), message: `does not go with type ${type}; remove it (type ${type} reads ${block})` });
    }
  }
  const body = ds[block];
  const where = at(path, block);
  if (!isRecord(body)) {
    errors.push({ field: where, message: `must be defined for type ${type}` });
    return;
  }
  switch (type) {
    case 'Secret': {
      mapping(body, where, ['kind', 'name'], errors);
      if (body.kind !== 'Secret')
        errors.push({ field: at(where, 'kind'), message: `${describe(body.kind, at(where, 'kind'))} must be one of: Secret` });
      const name = text(body.name, at(where, 'name'), errors, 'give the name of a Secret in the same mesh');
      const problem = name ? nameProblem(name) : undefined;
      if (problem) errors.push({ field: at(where, 'name'), message: problem });
      return;
    }
    case 'File': {
      mapping(body, where, ['path'], errors);
      const p = text(body.path, at(where, 'path'), errors, 'give the absolute path of the file on each zone control plane host');
      if (p?.includes('..'))
        errors.push({ field: at(where, 'path'), message: 'file path contains directory traversal sequence; give a path without ".."' });
      else if (p && !p.startsWith('/')) errors.push({ field: at(where, 'path'), message: 'file path must be absolute; start it with "/"' });
      return;
    }
    case 'EnvVar':
      mapping(body, where, ['name'], errors);
      text(body.name, at(where, 'name'), errors, 'give the name of an environment variable of the zone control plane');
      return;
    case 'InsecureInline':
      mapping(body, where, ['value'], errors);
      text(body.value, at(where, 'value'), errors, 'give the PEM content (or better, use type: Secret)');
      return;
  }
}

/** The Secret a SecureDataSource names, if it is `type: Secret`. */
export function secureDataSourceSecret(v: unknown): string | undefined {
  if (!isRecord(v) || v.type !== 'Secret' || !isRecord(v.secretRef)) return undefined;
  return typeof v.secretRef.name === 'string' ? v.secretRef.name : undefined;
}
