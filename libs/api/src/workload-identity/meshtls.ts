// MeshTLS: how a dataplane's inbound treats plaintext (Strict or Permissive), and TLS versions and
// ciphers. Kuma 2.14's shape: targetRef (Mesh, MeshSubset, Dataplane), rules, and the deprecated from.
import { mapping } from '../checks.js';
import type { FieldError } from '../errors.js';
import { at, describe, isRecord, type Obj } from '../fields.js';
import type { SelectableDataplane } from './meshidentity.js';

export type TlsMode = 'Strict' | 'Permissive';
export const TLS_VERSIONS = ['TLSAuto', 'TLS10', 'TLS11', 'TLS12', 'TLS13'] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];
export const TLS_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-RSA-CHACHA20-POLY1305',
] as const;
const TARGET_KINDS = ['Mesh', 'MeshSubset', 'Dataplane'] as const;

export interface MeshTlsConf {
  mode?: TlsMode;
  tlsVersion?: { min?: TlsVersion; max?: TlsVersion };
  tlsCiphers?: string[];
}

export interface TargetRef {
  kind: (typeof TARGET_KINDS)[number];
  labels?: Record<string, string>;
  tags?: Record<string, string>;
  name?: string;
  sectionName?: string;
}

export interface MeshTlsSpec {
  targetRef?: TargetRef;
  rules?: { default: MeshTlsConf }[];
  from?: { targetRef: { kind: 'Mesh' }; default: MeshTlsConf }[];
}

const P = 'spec';
const quoteList = (xs: readonly string[]) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;

export function validateMeshTlsSpec(spec: Obj): FieldError[] {
  const errors: FieldError[] = [];
  mapping(spec, P, ['targetRef', 'rules', 'from'], errors, 'a MeshTLS');
  let topKind = 'Mesh';
  if (spec.targetRef !== undefined) {
    const path = `${P}.targetRef`;
    const ref = mapping(spec.targetRef, path, ['kind', 'labels', 'tags', 'name', 'namespace', 'sectionName'], errors, 'a targetRef');
    if (ref) {
      if (ref.kind === undefined || ref.kind === '')
        errors.push({ field: at(path, 'kind'), message: 'must be defined; Mesh, MeshSubset or Dataplane' });
      else if (!(TARGET_KINDS as readonly unknown[]).includes(ref.kind)) {
        errors.push({
          field: at(path, 'kind'),
          message: `value '${String(ref.kind)}' is not supported; use Mesh, MeshSubset or Dataplane`,
        });
      } else topKind = String(ref.kind);
      if (topKind === 'Mesh') {
        if (ref.labels !== undefined)
          errors.push({ field: at(path, 'labels'), message: 'must not be set with kind Mesh; use kind: Dataplane to select by labels' });
        if (ref.sectionName !== undefined) errors.push({ field: at(path, 'sectionName'), message: 'must not be set with kind Mesh' });
      }
      for (const f of ['labels', 'tags'] as const) {
        if (ref[f] !== undefined && !isRecord(ref[f])) errors.push({ field: at(path, f), message: 'must be a mapping of names to values' });
      }
    }
  }
  const rules = spec.rules;
  const from = spec.from;
  if (Array.isArray(rules) && rules.length > 0 && Array.isArray(from) && from.length > 0) {
    errors.push({ field: P, message: "field 'from' must be empty when 'rules' is defined; move the from entries' default into rules" });
  }
  if (rules !== undefined) {
    if (!Array.isArray(rules)) errors.push({ field: `${P}.rules`, message: `must be a list (got ${describe(rules, 'rules')})` });
    else
      rules.forEach((r: unknown, i) => {
        const rule = mapping(r, `${P}.rules[${i}]`, ['default'], errors);
        if (rule) conf(rule.default, `${P}.rules[${i}].default`, topKind, errors);
      });
  }
  if (from !== undefined) {
    if (!Array.isArray(from)) errors.push({ field: `${P}.from`, message: `must be a list (got ${describe(from, 'from')})` });
    else
      from.forEach((f: unknown, i) => {
        const item = mapping(f, `${P}.from[${i}]`, ['targetRef', 'default'], errors);
        if (!item) return;
        const kind = isRecord(item.targetRef) ? item.targetRef.kind : undefined;
        if (kind !== 'Mesh')
          errors.push({
            field: `${P}.from[${i}].targetRef.kind`,
            message: `value '${String(kind)}' is not supported; from[].targetRef.kind is Mesh`,
          });
        conf(item.default, `${P}.from[${i}].default`, topKind, errors);
      });
  }
  return errors;
}

function conf(v: unknown, path: string, topKind: string, errors: FieldError[]): void {
  const c = mapping(v, path, ['mode', 'tlsVersion', 'tlsCiphers'], errors, 'a MeshTLS default');
  if (!c) return;
  if (c.mode !== undefined && c.mode !== 'Strict' && c.mode !== 'Permissive') {
    errors.push({ field: at(path, 'mode'), message: `"mode" must be one of ["Strict", "Permissive"] (got ${describe(c.mode, 'mode')})` });
  }
  if (c.tlsCiphers !== undefined) {
    if (topKind !== 'Mesh')
      errors.push({ field: at(path, 'tlsCiphers'), message: 'tlsCiphers can only be defined with top level targetRef kind: Mesh' });
    else if (!Array.isArray(c.tlsCiphers) || c.tlsCiphers.some((x) => !(TLS_CIPHERS as readonly unknown[]).includes(x))) {
      errors.push({ field: at(path, 'tlsCiphers'), message: `"tlsCiphers" must be one of ${quoteList(TLS_CIPHERS)}` });
    }
  }
  if (c.tlsVersion !== undefined) {
    if (topKind !== 'Mesh') {
      errors.push({ field: at(path, 'tlsVersion'), message: 'tlsVersion can only be defined with top level targetRef kind: Mesh' });
      return;
    }
    const tv = mapping(c.tlsVersion, at(path, 'tlsVersion'), ['min', 'max'], errors);
    if (!tv) return;
    for (const end of ['min', 'max'] as const) {
      if (tv[end] !== undefined && !(TLS_VERSIONS as readonly unknown[]).includes(tv[end])) {
        errors.push({ field: at(path, `tlsVersion.${end}`), message: `"${end}" must be one of ${quoteList(TLS_VERSIONS)}` });
      }
    }
    const rank = (x: unknown) => TLS_VERSIONS.indexOf(x as TlsVersion);
    if (rank(tv.min) > 0 && rank(tv.max) > 0 && rank(tv.min) > rank(tv.max)) {
      errors.push({ field: at(path, 'tlsVersion.min'), message: 'min version must be lower than max' });
    }
  }
}

// ---- The effective configuration of one dataplane

/** Kuma's order of targetRef specificity: a higher number wins. */
function specificity(ref: TargetRef | undefined): number {
  if (ref === undefined || ref.kind === 'Mesh') return 0;
  if (ref.kind === 'MeshSubset') return 1;
  const labels = Object.keys(ref.labels ?? {}).length > 0;
  if (ref.name !== undefined) return ref.sectionName !== undefined ? 6 : 5;
  if (labels) return ref.sectionName !== undefined ? 4 : 3;
  return 2;
}

function targets(ref: TargetRef | undefined, dp: SelectableDataplane & { name: string }): boolean {
  if (ref === undefined || ref.kind === 'Mesh') return true;
  const match = (want: Record<string, string> | undefined) =>
    Object.entries(want ?? {}).every(([k, v]) => dp.labels[k] === v || (dp.tags[k]?.includes(v) ?? false));
  if (ref.kind === 'MeshSubset') return match(ref.tags);
  if (ref.name !== undefined && ref.name !== dp.name) return false;
  return match(ref.labels);
}

/**
 * Merges the MeshTLS policies that target a dataplane: the least specific first, so a more specific
 * one (Dataplane over Mesh) overrides it; at one level the lexicographically first name wins.
 */
export function effectiveMeshTls(
  policies: readonly { name: string; spec: MeshTlsSpec }[],
  dp: SelectableDataplane & { name: string },
): MeshTlsConf & { policies: string[] } {
  const matching = policies
    .filter((p) => targets(p.spec.targetRef, dp))
    .sort((a, b) => specificity(a.spec.targetRef) - specificity(b.spec.targetRef) || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
  const out: MeshTlsConf = {};
  for (const p of matching) {
    for (const c of [...(p.spec.from ?? []).map((f) => f.default), ...(p.spec.rules ?? []).map((r) => r.default)]) {
      if (c.mode !== undefined) out.mode = c.mode;
      if (c.tlsVersion !== undefined) out.tlsVersion = { ...out.tlsVersion, ...c.tlsVersion };
      if (c.tlsCiphers !== undefined) out.tlsCiphers = c.tlsCiphers;
    }
  }
  return { ...out, policies: matching.map((p) => p.name) };
}
