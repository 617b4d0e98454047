// DataSource: where a credential or certificate comes from. Exactly one of four kinds.
import type { FieldError } from './errors.js';
import { at, checkKnownKeys, describe, isRecord, isSecretField } from './fields.js';
import { nameProblem } from './names.js';

/** Where a credential or certificate comes from: exactly one of the four. */
export type DataSource = { secret: string } | { file: string } | { inline: string } | { inlineString: string };

export const DATA_SOURCE_KINDS = ['secret', 'file', 'inline', 'inlineString'] as const;
const KINDS_TEXT = 'secret, file, inline or inlineString';

/** Standard or URL-safe base64, padded or not, line breaks allowed (as `base64` wraps at 76). */
export function isBase64(s: string): boolean {
  const compact = s.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(compact)) return false;
  const padded = compact.includes('=');
  if (padded) return compact.length % 4 === 0;
  return compact.length % 4 !== 1;
}

/** Pushes what is wrong with the DataSource at `path`; never echoes its content (it may be a key). */
export function validateDataSource(v: unknown, path: string, errors: FieldError[]): void {
  if (!isRecord(v)) {
    errors.push({ field: path, message: `must be a mapping with one of ${KINDS_TEXT} (got ${describe(v, path)})` });
    return;
  }
  checkKnownKeys(v, DATA_SOURCE_KINDS, path, errors);
  const set = DATA_SOURCE_KINDS.filter((k) => v[k] !== undefined && v[k] !== null);
  if (set.length === 0) {
    errors.push({ field: path, message: `set one of ${KINDS_TEXT}` });
    return;
  }
  if (set.length > 1) {
    errors.push({
      field: path,
      message: `set exactly one of ${KINDS_TEXT}, not ${set.join(' and ')} (keep one, remove the others)`,
    });
  }
  for (const kind of set) {
    const value = v[kind];
    const field = at(path, kind);
    if (typeof value !== 'string') {
      errors.push({ field, message: `must be text, not ${kind === 'secret' || kind === 'file' ? describe(value, field) : typeof value}` });
      continue;
    }
    if (kind === 'secret') {
      const problem = nameProblem(value, !isSecretField(path));
      if (problem) errors.push({ field, message: `${problem} (the name of a Secret or GlobalSecret)` });
    } else if (kind === 'file') {
      if (value === '') errors.push({ field, message: 'is empty; give the path of a file on the control plane host' });
    } else if (kind === 'inline') {
      if (value === '') errors.push({ field, message: 'is empty; give base64 of the content, or use inlineString for text' });
      else if (!isBase64(value)) {
        errors.push({ field, message: 'is not valid base64; encode the content with base64, or use inlineString for plain text' });
      }
    } else if (value === '') {
      errors.push({ field, message: 'is empty; give the content, or use secret or file' });
    }
  }
}

/** The secret name a DataSource points at, if it is a `secret:` DataSource. */
export function dataSourceSecret(v: unknown): string | undefined {
  return isRecord(v) && typeof v.secret === 'string' ? v.secret : undefined;
}
