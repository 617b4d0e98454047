// Small helpers shared by the parsers and validators: paths as users write them, unknown keys.
import type { FieldError } from './errors.js';

export type Obj = Record<string, unknown>;

export function isRecord(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `a.b`, `a[0]`, `a.b.c` (a dotted field path may be given as key): what a user would search their YAML for. */
export function at(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (!/^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*$/.test(key)) return atKey(path, key);
  return path ? `${path}.${key}` : key;
}

/** A key of a free-form map (labels, tags): `tags["kuma.io/service"]`. */
export function atKey(path: string, key: string): string {
  if (/^[A-Za-z_][\w-]*$/.test(key)) return path ? `${path}.${key}` : key;
  return `${path}[${JSON.stringify(key)}]`;
}

/** Prefix every field with where it came from (`document 2`, `request body`). */
export function prefixed(where: string | undefined, errors: FieldError[]): FieldError[] {
  if (!where) return errors;
  return errors.map((e) => ({ field: e.field ? `${where}: ${e.field}` : where, message: e.message }));
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

/** The known name a typo most likely meant, if any is close enough to be worth suggesting. */
export function nearest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: { name: string; d: number } | undefined;
  for (const candidate of known) {
    const c = candidate.toLowerCase();
    const d = c.startsWith(lower) || lower.startsWith(c) ? Math.abs(c.length - lower.length) / 4 : distance(lower, c);
    if (d <= Math.max(2, Math.floor(Math.max(c.length, lower.length) / 3)) && (!best || d < best.d)) {
      best = { name: candidate, d };
    }
  }
  return best?.name;
}

/** Refuse keys outside `known`: Kuma drops them silently, so a typo would lose configuration. */
export function checkKnownKeys(obj: Obj, known: readonly string[], path: string, errors: FieldError[], what = ''): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    const guess = nearest(key, known);
    const suffix = what ? ` for ${what}` : '';
    errors.push({
      field: at(path, key),
      message: guess
        ? `unknown field${suffix}; did you mean "${guess}"?`
        : `unknown field${suffix}; remove it (known fields here: ${known.join(', ') || 'none'})`,
    });
  }
}

/**
 * Segments of a field path under which a value may be secret material (a token, a key, a Secret's
 * data, inline DataSource content): such a value is never quoted back, whatever its shape.
 */
const SECRET_SEGMENT = /^(auth|key|token|data|privatekey|clientkey|password|accesskey.*|inline.*)$/i;

export function isSecretField(path: string): boolean {
  return path.split(/[.[\]"]+/).some((segment) => SECRET_SEGMENT.test(segment));
}

/** What a value is, for an error message; under a secret-bearing field only its kind and size. */
export function describe(v: unknown, path: string): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (isRecord(v)) return 'a mapping';
  if (isSecretField(path)) return typeof v === 'string' ? `text of ${v.length} characters` : `a ${typeof v}`;
  if (typeof v === 'string') return `the text ${JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v)}`;
  return `${typeof v} ${String(v)}`;
}
