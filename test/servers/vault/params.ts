import { badRequest } from './errors.js';
import { parseDurationSeconds } from './duration.js';

/** A request body as Vault's framework.FieldData sees it: loosely typed JSON. */
export type Body = Record<string, unknown>;

export function str(body: Body, field: string, fallback = ''): string {
  const v = body[field];
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw badRequest(`error converting input for field ${JSON.stringify(field)}: expected a string`);
}

export function has(body: Body, field: string): boolean {
  return body[field] !== undefined && body[field] !== null;
}

/** TypeBool: JSON booleans or the strings strconv.ParseBool accepts. */
export function bool(body: Body, field: string, fallback: boolean): boolean {
  const v = body[field];
  if (v === undefined || v === null || v === '') return fallback;
  if (typeof v === 'boolean') return v;
  const s = String(v).toLowerCase();
  if (['1', 't', 'true'].includes(s)) return true;
  if (['0', 'f', 'false'].includes(s)) return false;
  throw badRequest(`error converting input ${String(v)} for field ${JSON.stringify(field)}: cannot parse '' as bool`);
}

export function int(body: Body, field: string, fallback: number): number {
  const v = body[field];
  if (v === undefined || v === null || v === '') return fallback;
  const n = typeof v === 'number' ? v : Number(String(v));
  if (!Number.isInteger(n)) {
    throw badRequest(`error converting input ${String(v)} for field ${JSON.stringify(field)}: expected an integer`);
  }
  return n;
}

/** TypeCommaStringSlice: "a,b" or ["a","b"], trimmed, empties dropped. */
export function commaList(body: Body, field: string, fallback: string[] = []): string[] {
  const v = body[field];
  if (v === undefined || v === null) return fallback;
  const items = Array.isArray(v) ? v.map(String) : String(v).split(',');
  return items.map((s) => s.trim()).filter((s) => s !== '');
}

export function duration(body: Body, field: string): number {
  return parseDurationSeconds(field, body[field]);
}
