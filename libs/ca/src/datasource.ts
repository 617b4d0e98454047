import { readFile } from 'node:fs/promises';
import type { DataSource, SecretSpec } from '@meshca/api';
import type { DataSourceReader, ResourceGetter } from './backend.js';

export type { ResourceGetter } from './backend.js';

/** A DataSource that cannot be read; the message names the field and never the content. */
export class DataSourceError extends Error {
  constructor(
    readonly field: string,
    /** What is wrong and what to do, without the field path (for a FieldError). */
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'DataSourceError';
  }
}

/**
 * `secret` names a Secret of the mesh or, failing that, a GlobalSecret (as in Kuma);
 * `file` is a path on this control plane's host; `inline` is base64; `inlineString` is text.
 */
export function createDataSourceReader(get: ResourceGetter, mesh: string): DataSourceReader {
  return async (source: DataSource, field: string): Promise<Buffer> => {
    if ('secret' in source) {
      const secret =
        (await get({ type: 'Secret', mesh, name: source.secret })) ?? (await get({ type: 'GlobalSecret', name: source.secret }));
      if (!secret) {
        throw new DataSourceError(
          `${field}.secret`,
          `secret "${source.secret}" does not exist in mesh "${mesh}" nor as a global secret; create it first (meshctl apply -f secret.yaml)`,
        );
      }
      return Buffer.from((secret.spec as SecretSpec).data, 'base64');
    }
    if ('file' in source) {
      try {
        return await readFile(source.file);
      } catch (err) {
        throw new DataSourceError(
          `${field}.file`,
          `cannot read "${source.file}" on the control plane host (${(err as NodeJS.ErrnoException).code ?? 'error'}); check the path and its permissions`,
        );
      }
    }
    if ('inline' in source) return Buffer.from(source.inline, 'base64');
    return Buffer.from(source.inlineString, 'utf8');
  };
}
