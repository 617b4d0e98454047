// Typed reads that record what is wrong at a path and say what to do.
import { parseDuration } from './duration.js';
import type { FieldError } from './errors.js';
import { checkKnownKeys, describe, isRecord, type Obj } from './fields.js';

/** A mapping at `path` whose keys must be `known`; undefined (and an error) when it is not a mapping. */
export function mapping(v: unknown, path: string, known: readonly string[], errors: FieldError[], what = ''): Obj | undefined {
  if (!isRecord(v)) {
    errors.push({ field: path, message: `must be a mapping${known.length ? ` with ${known.join(', ')}` : ''} (got ${describe(v)})` });
    return undefined;
  }
  checkKnownKeys(v, known, path, errors, what);
  return v;
}

/** Optional text; `required` adds an error when absent or empty. */
export function text(v: unknown, path: string, errors: FieldError[], required?: string): string | undefined {
  if (v === undefined || v === null) {
    if (required) errors.push({ field: path, message: `required; ${required}` });
    return undefined;
  }
  if (typeof v !== 'string') {
    errors.push({ field: path, message: `must be text (got ${describe(v)}); quote it` });
    return undefined;
  }
  if (required && v === '') {
    errors.push({ field: path, message: `is empty; ${required}` });
    return undefined;
  }
  return v;
}

export function bool(v: unknown, path: string, errors: FieldError[]): void {
  if (v !== undefined && v !== null && typeof v !== 'boolean') {
    errors.push({ field: path, message: `must be true or false (got ${describe(v)})` });
  }
}

/** Optional duration that must be more than zero. */
export function duration(v: unknown, path: string, errors: FieldError[]): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'string') {
    errors.push({ field: path, message: `must be a duration with a unit, like 24h or 1d (got ${describe(v)})` });
    return;
  }
  try {
    if (parseDuration(v) <= 0) errors.push({ field: path, message: 'must be longer than zero; write e.g. 24h' });
  } catch (e) {
    errors.push({ field: path, message: (e as Error).message });
  }
}

// Deliberately looser than WHATWG URL: `https://vault.8200` (a typo in seed 001 for vault:8200) is
// refused by WHATWG as a bad IPv4 address, but Kuma (Go's net/url) accepts it and fails only
// when it dials. The failure then belongs to the backend check, which can name the host.
const HTTP_URL = /^https?:\/\/([^\s/?#@]+@)?([A-Za-z0-9_.~-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?([/?#]\S*)?$/;

export function url(v: unknown, path: string, errors: FieldError[], example: string, required?: string): void {
  const s = text(v, path, errors, required);
  if (s && !HTTP_URL.test(s)) {
    errors.push({ field: path, message: `${describe(s)} is not an http(s) URL; write it like ${example}` });
  }
}
