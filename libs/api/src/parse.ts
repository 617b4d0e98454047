// Text (YAML or JSON, one or many documents) -> ResourceInput[]. Shape only: the rules of each
// type are checked by validateResource, so a document can be read, shown and then judged.
import { LineCounter, parseAllDocuments } from 'yaml';
import { convertDocument } from './envelope.js';
import { type FieldError, ValidationError } from './errors.js';
import { isRecord, prefixed } from './fields.js';
import type { ResourceInput } from './types.js';
import { validateResource } from './validate.js';

interface Decoded {
  label: string;
  /** Part of a list: always labelled, even when it is the only resource. */
  listed: boolean;
  value: unknown;
}

/** A decoded document and its 1-based position in the stream (empty documents keep their number). */
interface Numbered {
  n: number;
  value: unknown;
}

function yamlErrors(text: string): { docs: Numbered[]; errors: FieldError[] } {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const list = Array.isArray(parsed) ? parsed : [];
  const errors: FieldError[] = [];
  const docs: Numbered[] = [];
  list.forEach((doc, i) => {
    for (const e of doc.errors) {
      const { line, col } = lineCounter.linePos(e.pos[0]);
      const reason = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      errors.push({ field: `line ${line}, column ${col}`, message: `YAML syntax error: ${reason}; fix the YAML there` });
    }
    if (doc.errors.length > 0) return;
    try {
      const value: unknown = doc.toJS({ maxAliasCount: 100 });
      // An empty document (e.g. after a trailing `---`) reads as null: nothing to apply.
      if (value !== null && value !== undefined) docs.push({ n: i + 1, value });
    } catch (e) {
      const { line, col } = lineCounter.linePos(doc.range[0]);
      errors.push({
        field: `line ${line}, column ${col}`,
        message: `cannot read this document (${(e as Error).message}); remove excessive aliases`,
      });
    }
  });
  return { docs, errors };
}

function decode(text: string): { docs: Numbered[]; errors: FieldError[] } {
  const trimmed = text.trim();
  // JSON first when it looks like JSON: tabs and some escapes are valid JSON but not valid YAML.
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return { docs: [{ n: 1, value: JSON.parse(trimmed) as unknown }], errors: [] };
    } catch {
      // Not strict JSON: YAML flow style, or broken. The YAML parser says where.
    }
  }
  return yamlErrors(text);
}

/** The keys of a list as the API answers it (`{ total, items, next }`) and as `meshctl get -o yaml|json` prints it. */
const API_LIST_KEYS: readonly string[] = ['total', 'items', 'next'];

/** The items of a list document: a top-level list, a Kubernetes `kind: List`, or a list of the API. */
function listItems(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (!isRecord(value) || !Array.isArray(value.items)) return undefined;
  if (value.kind === 'List' || Object.keys(value).every((k) => API_LIST_KEYS.includes(k))) return value.items as unknown[];
  return undefined;
}

/** A list document holds several resources. */
function expand(docs: Numbered[]): Decoded[] {
  const out: Decoded[] = [];
  docs.forEach(({ n, value }) => {
    const items = listItems(value);
    if (items) items.forEach((item, j) => out.push({ label: `document ${n}, item ${j + 1}`, listed: true, value: item }));
    else out.push({ label: `document ${n}`, listed: false, value });
  });
  return out;
}

function decodeAll(text: string): Decoded[] {
  const { docs, errors } = decode(text);
  if (errors.length > 0) throw new ValidationError(errors, 'Input is not valid YAML or JSON');
  const decoded = expand(docs);
  if (decoded.length === 0) {
    throw new ValidationError([{ field: '', message: 'no resource found; the input is empty' }], 'Input holds no resource');
  }
  return decoded;
}

/** One already-decoded object (e.g. an HTTP request body). `where` prefixes the error fields. */
export function parseObject(obj: unknown, where?: string): ResourceInput {
  let copy: unknown;
  try {
    copy = structuredClone(obj);
  } catch {
    throw new ValidationError(prefixed(where, [{ field: '', message: 'must be plain data (mappings, lists, text, numbers)' }]));
  }
  const { input, errors } = convertDocument(copy);
  if (!input || errors.length > 0) throw new ValidationError(prefixed(where, errors));
  return input;
}

/** A resource and where it is in its text: `document 2`, `document 1, item 3`; absent when the text holds only it. */
export interface LocatedInput {
  where?: string;
  input: ResourceInput;
}

function each(text: string, check: boolean): LocatedInput[] {
  const decoded = decodeAll(text);
  const many = decoded.length > 1;
  const inputs: LocatedInput[] = [];
  const errors: FieldError[] = [];
  for (const { label, listed, value } of decoded) {
    const where = many || listed ? label : undefined;
    const { input, errors: docErrors } = convertDocument(value);
    const found = input && check ? validateResource(input) : [];
    errors.push(...prefixed(where, [...docErrors, ...found]));
    if (input) inputs.push(where === undefined ? { input } : { where, input });
  }
  if (errors.length > 0) throw new ValidationError(errors);
  return inputs;
}

/** YAML or JSON text with one or more documents, in Universal or Kubernetes form. Throws ValidationError. */
export function parseDocuments(text: string): ResourceInput[] {
  return each(text, false).map((l) => l.input);
}

/** parseDocuments, with where each resource is in the text (for messages naming it). */
export function parseLocatedDocuments(text: string): LocatedInput[] {
  return each(text, false);
}

/** parseDocuments, then validateResource on each; every error of every document in one ValidationError. */
export function parseValidDocuments(text: string): ResourceInput[] {
  return each(text, true).map((l) => l.input);
}

/** Throws ValidationError (fields prefixed with `where`) unless `input` is valid. */
export function assertValid(input: ResourceInput, where?: string): void {
  const errors = validateResource(input);
  if (errors.length > 0) throw new ValidationError(prefixed(where, errors));
}
