// Typed reads that record what is wrong at a path and say what to do.
import { parseDuration } from './duration.js';
import type { FieldError } from './errors.js';
import { checkKnownKeys, describe, isRecord, type Obj } from './fields.js';

/** A mapping at `path` whose keys must be `known`; undefined (and an error) when it is not a mapping. */
export function mapping(v: unknown, path: string, known: readonly string[], errors: FieldError[], what = ''): Obj | undefined {
  if (!isRecord(v)) {
    errors.push({ field: path, message: `must be a mapping${known.length ? ` with ${known.join(', ')}` : ''} (got ${describe(v, path)})` });
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
    errors.push({ field: path, message: `must be text (got ${describe(v, path)}); quote it` });
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
    errors.push({ field: path, message: `must be true or false (got ${describe(v, path)})` });
  }
}

/** Bounds of a duration field, in seconds, with why (said when a value is outside them). */
export interface DurationBounds {
  min: number;
  max: number;
  why: string;
}

/** Optional duration that must be more than zero (and within `bounds`); returns its seconds when valid. */
export function duration(v: unknown, path: string, errors: FieldError[], bounds?: DurationBounds): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') {
    errors.push({ field: path, message: `must be a duration with a unit, like 24h or 1d (got ${describe(v, path)})` });
    return undefined;
  }
  let seconds: number;
  try {
    seconds = parseDuration(v);
  } catch (e) {
    errors.push({ field: path, message: (e as Error).message });
    return undefined;
  }
  if (seconds <= 0) {
    errors.push({ field: path, message: 'must be longer than zero; write e.g. 24h' });
    return undefined;
  }
  if (bounds && (seconds < bounds.min || seconds > bounds.max)) {
    errors.push({ field: path, message: `must be from ${formatSeconds(bounds.min)} to ${formatSeconds(bounds.max)} (${bounds.why})` });
    return undefined;
  }
  return seconds;
}

/** 300 -> 5m, 86400 -> 1d, 315360000 -> 10y: how a bound is shown. */
export function formatSeconds(s: number): string {
  const units: [string, number][] = [
    ['y', 365 * 86400],
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ];
  for (const [unit, size] of units) if (s >= size && s % size === 0) return `${s / size}${unit}`;
  return `${s}s`;
}

// Deliberately looser than WHATWG URL: `https://vault.8200` (a typo in seed 001 for vault:8200) is
// refused by WHATWG as a bad IPv4 address, but Kuma (Go's net/url) accepts it and fails only
// when it dials. The failure then belongs to the backend check, which can name the host.
const HTTP_URL = /^https?:\/\/([^\s/?#@]+@)?([A-Za-z0-9_.~-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?([/?#]\S*)?$/;

export function url(v: unknown, path: string, errors: FieldError[], example: string, required?: string): void {
  const s = text(v, path, errors, required);
  if (s && !HTTP_URL.test(s)) {
    errors.push({ field: path, message: `${describe(s, path)} is not an http(s) URL; write it like ${example}` });
  }
}
