import { ValidationError } from '@meshca/api';
import { ApiCallError } from './client.js';

/** An error and where its input came from (`mesh.yaml, document 2`), named first when reported. */
export class SourcedError extends Error {
  constructor(
    readonly source: string,
    override readonly cause: unknown,
  ) {
    super(`${source}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'SourcedError';
  }
}

const causeLine = (c: { field: string; message: string }): string => (c.field ? `  ${c.field}: ${c.message}` : `  ${c.message}`);

/** What meshctl prints on error: one line saying what went wrong (and where), then one line per failing field. */
export function report(err: unknown): string {
  const source = err instanceof SourcedError ? `${err.source}: ` : '';
  const inner = err instanceof SourcedError ? err.cause : err;
  if (inner instanceof ApiCallError) {
    const causes = inner.body.causes ?? [];
    const title = inner.body.title ?? `HTTP ${inner.status}`;
    const head = causes.length === 0 && inner.message !== title ? `${title}: ${inner.message}` : title;
    return [`Error: ${source}${head}`, ...causes.map(causeLine)].join('\n');
  }
  if (inner instanceof ValidationError) return [`Error: ${source}${inner.title}`, ...inner.errors.map(causeLine)].join('\n');
  return `Error: ${source}${inner instanceof Error ? inner.message : String(inner)}`;
}
