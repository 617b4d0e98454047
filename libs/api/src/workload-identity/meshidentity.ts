// MeshIdentity (Kuma's workload identity): which dataplanes it selects, the SPIFFE ID it gives them,
// and the CA it issues from. Field by field as Kuma's validator, with meshca's paths and what to do.
import { bool, duration, mapping, text } from '../checks.js';
import type { FieldError } from '../errors.js';
import { at, atKey, describe, isRecord, type Obj } from '../fields.js';
import { DP_CERT_EXPIRATION_BOUNDS } from '../validate-mesh.js';
import { validateSecureDataSource, secureDataSourceSecret, type SecureDataSource } from './secure-datasource.js';
import { spiffeId, spiffePathProblem, trustDomainProblem } from './spiffe.js';
import { parseTemplate, renderTemplate, templateUses, type Template } from './template.js';

export interface MeshIdentitySpec {
  selector?: { dataplane?: { matchLabels?: Record<string, string> } };
  spiffeID?: { trustDomain?: string; path?: string };
  provider?: {
    type: 'Bundled' | 'Spire' | 'Extension';
    bundled?: {
      meshTrustCreation?: 'Enabled' | 'Disabled';
      insecureAllowSelfSigned?: boolean;
      autogenerate?: { enabled?: boolean };
      ca?: { certificate: SecureDataSource; privateKey: SecureDataSource };
      certificateParameters?: { expiry?: string };
    };
    spire?: { agent?: { timeout?: string } };
    extension?: { name: string; config?: unknown };
  };
}

export const PROVIDER_TYPES = ['Bundled', 'Spire', 'Extension'] as const;
export const DEFAULT_TRUST_DOMAIN_TEMPLATE = '{{ .Mesh }}.{{ .Zone }}.mesh.local';
/** meshca's zones are Universal control planes: Kuma's Universal default. */
export const DEFAULT_PATH_TEMPLATE = '/workload/{{ .Workload }}';
/** Kuma's default workload certificate lifetime up to 2.14 (the Kong pages' version). */
export const DEFAULT_IDENTITY_EXPIRY = '24h';
export const WORKLOAD_LABEL = 'kuma.io/workload';
export const TRUST_DOMAIN_FIELDS = ['Mesh', 'Zone'] as const;
export const PATH_FIELDS = ['TrustDomain', 'Namespace', 'ServiceAccount', 'Workload'] as const;
/** Kubernetes labels Kuma sets on a dataplane, read by `.Namespace` and `.ServiceAccount`. */
export const NAMESPACE_LABEL = 'k8s.kuma.io/namespace';
export const SERVICE_ACCOUNT_LABEL = 'k8s.kuma.io/service-account';

const P = 'spec';

/**
 * The Kong page's bundled-with-user-ca example puts `ca` beside `bundled` instead of in it (Kuma
 * then ignores it). Read as `provider.bundled.ca`, the way the Mesh's `acm:` is read as `conf:`.
 */
export function normalizeMeshIdentitySpec(spec: Obj, errors: FieldError[]): Obj {
  const provider = spec.provider;
  if (!isRecord(provider) || provider.ca === undefined || provider.type !== 'Bundled') return spec;
  const bundled = isRecord(provider.bundled) ? provider.bundled : {};
  if (bundled.ca !== undefined) {
    errors.push({
      field: `${P}.provider.ca`,
      message: 'the CA is set both here and under provider.bundled.ca; keep the one under bundled',
    });
    return spec;
  }
  const { ca, ...rest } = provider;
  return { ...spec, provider: { ...rest, bundled: { ...bundled, ca } } };
}

export function validateMeshIdentitySpec(spec: Obj): FieldError[] {
  const errors: FieldError[] = [];
  mapping(spec, P, ['selector', 'spiffeID', 'provider'], errors, 'a MeshIdentity');
  selector(spec.selector, errors);
  spiffe(spec.spiffeID, errors);
  if (spec.provider !== undefined) provider(spec.provider, errors);
  return errors;
}

function selector(v: unknown, errors: FieldError[]): void {
  if (v === undefined || v === null) return;
  const path = `${P}.selector`;
  const sel = mapping(v, path, ['dataplane'], errors, 'a selector');
  if (!sel || sel.dataplane === undefined || sel.dataplane === null) return;
  const dp = mapping(sel.dataplane, at(path, 'dataplane'), ['matchLabels'], errors);
  if (!dp || dp.matchLabels === undefined || dp.matchLabels === null) return;
  const labelsPath = at(path, 'dataplane.matchLabels');
  const labels = dp.matchLabels;
  if (!isRecord(labels)) {
    errors.push({
      field: labelsPath,
      message: `must be a mapping of label names to values, {} for every dataplane (got ${describe(labels, labelsPath)})`,
    });
    return;
  }
  for (const [k, value] of Object.entries(labels)) {
    if (typeof value !== 'string')
      errors.push({ field: atKey(labelsPath, k), message: `label values are text; quote it ("${String(value)}")` });
  }
}

function spiffe(v: unknown, errors: FieldError[]): void {
  if (v === undefined || v === null) return;
  const path = `${P}.spiffeID`;
  const s = mapping(v, path, ['trustDomain', 'path'], errors, 'spiffeID');
  if (!s) return;
  const td = text(s.trustDomain, at(path, 'trustDomain'), errors);
  if (td !== undefined) {
    const parsed = parseTemplate(td, TRUST_DOMAIN_FIELDS);
    if (!parsed.ok) errors.push({ field: at(path, 'trustDomain'), message: `couldn't parse template: ${parsed.error}` });
    else {
      // Whatever the variables hold, the text around them must fit a trust domain.
      const sample = renderTemplate(parsed.template, { Mesh: 'x', Zone: 'x' }, new Proxy({}, { get: () => 'x' }));
      const problem = sample.ok ? trustDomainProblem(sample.value) : undefined;
      if (problem)
        errors.push({ field: at(path, 'trustDomain'), message: `${problem}; write it like "{{ .Mesh }}.{{ .Zone }}.mesh.local"` });
    }
  }
  const p = text(s.path, at(path, 'path'), errors);
  if (p !== undefined) {
    const parsed = parseTemplate(p, PATH_FIELDS);
    if (!parsed.ok) errors.push({ field: at(path, 'path'), message: `couldn't parse template: ${parsed.error}` });
    else {
      const sample = renderTemplate(
        parsed.template,
        { TrustDomain: 'x', Namespace: 'x', ServiceAccount: 'x', Workload: 'x' },
        new Proxy({}, { get: () => 'x' }),
      );
      const problem = sample.ok ? spiffePathProblem(sample.value) : undefined;
      if (problem) errors.push({ field: at(path, 'path'), message: `${problem}; write it like "/workload/{{ .Workload }}"` });
    }
  }
}

function provider(v: unknown, errors: FieldError[]): void {
  const path = `${P}.provider`;
  const pr = mapping(v, path, ['type', 'bundled', 'spire', 'extension'], errors, 'a provider');
  if (!pr) return;
  const type = pr.type;
  if (typeof type !== 'string' || !(PROVIDER_TYPES as readonly string[]).includes(type)) {
    errors.push({
      field: at(path, 'type'),
      message: `${type === undefined ? 'required' : `${describe(type, 'type')}`}: must be one of ["Bundled", "Spire", "Extension"]; Bundled is the one meshca issues from`,
    });
    return;
  }
  for (const other of ['bundled', 'spire', 'extension']) {
    if (other !== type.toLowerCase() && pr[other] !== undefined) {
      errors.push({ field: at(path, other), message: `does not go with type ${type}; remove it` });
    }
  }
  if (type === 'Bundled') bundled(pr.bundled, at(path, 'bundled'), errors);
  else if (type === 'Spire') {
    const s = pr.spire;
    if (!isRecord(s)) {
      errors.push({ field: at(path, 'spire'), message: 'configuration needs to be defined; write spire: {} for the defaults' });
      return;
    }
    const sp = mapping(s, at(path, 'spire'), ['agent'], errors);
    if (sp?.agent !== undefined) {
      const agent = mapping(sp.agent, at(path, 'spire.agent'), ['timeout'], errors);
      duration(agent?.timeout, at(path, 'spire.agent.timeout'), errors);
    }
  } else {
    const e = pr.extension;
    if (!isRecord(e)) {
      errors.push({ field: at(path, 'extension'), message: 'configuration needs to be defined; give extension.name' });
      return;
    }
    mapping(e, at(path, 'extension'), ['name', 'config'], errors);
    text(e.name, at(path, 'extension.name'), errors, 'extension name needs to be defined');
  }
}

function bundled(v: unknown, path: string, errors: FieldError[]): void {
  if (!isRecord(v)) {
    errors.push({
      field: path,
      message: 'configuration needs to be defined; add autogenerate.enabled: true, or ca with certificate and privateKey',
    });
    return;
  }
  mapping(
    v,
    path,
    ['meshTrustCreation', 'insecureAllowSelfSigned', 'autogenerate', 'ca', 'certificateParameters'],
    errors,
    'a Bundled provider',
  );
  if (v.meshTrustCreation !== undefined && v.meshTrustCreation !== 'Enabled' && v.meshTrustCreation !== 'Disabled') {
    errors.push({
      field: at(path, 'meshTrustCreation'),
      message: `${describe(v.meshTrustCreation, 'meshTrustCreation')} must be one of ["Enabled", "Disabled"]`,
    });
  }
  bool(v.insecureAllowSelfSigned, at(path, 'insecureAllowSelfSigned'), errors);
  let autogenerate = false;
  if (v.autogenerate !== undefined && v.autogenerate !== null) {
    const a = mapping(v.autogenerate, at(path, 'autogenerate'), ['enabled'], errors);
    bool(a?.enabled, at(path, 'autogenerate.enabled'), errors);
    autogenerate = a?.enabled === true;
  }
  if (autogenerate) {
    if (v.ca !== undefined) {
      errors.push({
        field: at(path, 'ca'),
        message: "shouldn't be defined once using autogenerated; remove ca or set autogenerate.enabled: false",
      });
    }
    if (v.insecureAllowSelfSigned !== true) {
      errors.push({
        field: at(path, 'insecureAllowSelfSigned'),
        message:
          'an autogenerated CA is self-signed: set insecureAllowSelfSigned: true (Kuma refuses it too: "self-signed certificates are not allowed")',
      });
    }
  } else if (v.ca === undefined || v.ca === null) {
    errors.push({
      field: at(path, 'ca'),
      message: 'must be defined; give ca.certificate and ca.privateKey, or set autogenerate.enabled: true',
    });
  } else {
    const ca = mapping(v.ca, at(path, 'ca'), ['certificate', 'privateKey'], errors, 'a CA');
    if (ca) {
      for (const f of ['certificate', 'privateKey'] as const) {
        if (ca[f] === undefined)
          errors.push({
            field: at(path, `ca.${f}`),
            message: `must be defined; give the CA's ${f === 'certificate' ? 'certificate' : 'private key'} (type: Secret with secretRef.name)`,
          });
        else validateSecureDataSource(ca[f], at(path, `ca.${f}`), errors);
      }
    }
  }
  if (v.certificateParameters !== undefined && v.certificateParameters !== null) {
    const cp = mapping(v.certificateParameters, at(path, 'certificateParameters'), ['expiry'], errors);
    duration(cp?.expiry, at(path, 'certificateParameters.expiry'), errors, DP_CERT_EXPIRATION_BOUNDS);
  }
}

/** The Secrets a MeshIdentity's CA reads (`type: Secret`), with their field paths. */
export function meshIdentitySecretRefs(spec: unknown): { field: string; secret: string }[] {
  if (!isRecord(spec) || !isRecord(spec.provider) || !isRecord(spec.provider.bundled) || !isRecord(spec.provider.bundled.ca)) return [];
  const ca = spec.provider.bundled.ca;
  const out: { field: string; secret: string }[] = [];
  for (const f of ['certificate', 'privateKey'] as const) {
    const secret = secureDataSourceSecret(ca[f]);
    if (secret !== undefined) out.push({ field: `${P}.provider.bundled.ca.${f}.secretRef.name`, secret });
  }
  return out;
}

// ---- Selection

/** The labels a dataplane is matched on: its tags (any of a tag's values) and its labels. */
export interface SelectableDataplane {
  labels: Readonly<Record<string, string>>;
  tags: Readonly<Record<string, readonly string[]>>;
}

function hasLabel(dp: SelectableDataplane, key: string, value: string): boolean {
  return dp.labels[key] === value || (dp.tags[key]?.includes(value) ?? false);
}

/**
 * How specific the identity's selector is for this dataplane (its number of labels), or undefined
 * when it does not select it. No selector, or one without `dataplane`, selects nothing;
 * `matchLabels: {}` selects every dataplane (Kuma's rule, and the Kong page's table).
 */
export function selectorScore(spec: MeshIdentitySpec, dp: SelectableDataplane): number | undefined {
  const dataplane = spec.selector?.dataplane;
  if (dataplane === undefined || dataplane === null) return undefined;
  const match = Object.entries(dataplane.matchLabels ?? {});
  return match.every(([k, v]) => hasLabel(dp, k, v)) ? match.length : undefined;
}

/** The most specific identity that selects the dataplane; ties go to the lexicographically first name. */
export function bestMatch<T extends { name: string; spec: MeshIdentitySpec }>(
  identities: readonly T[],
  dp: SelectableDataplane,
): T | undefined {
  let best: { identity: T; score: number } | undefined;
  for (const identity of identities) {
    const score = selectorScore(identity.spec, dp);
    if (score === undefined) continue;
    if (!best || score > best.score || (score === best.score && identity.name < best.identity.name)) best = { identity, score };
  }
  return best?.identity;
}

// ---- Rendering

function templateOf(source: string, fields: readonly string[]): Template {
  const parsed = parseTemplate(source, fields);
  if (!parsed.ok) throw new Error(`template ${JSON.stringify(source)} ${parsed.error}`);
  return parsed.template;
}

/**
 * The trust domain of an identity in a zone: `spiffeID.trustDomain` (default
 * `{{ .Mesh }}.{{ .Zone }}.mesh.local`); `label` reads the MeshIdentity's own labels, as in Kuma.
 */
export function renderTrustDomain(
  spec: MeshIdentitySpec,
  ctx: { mesh: string; zone: string; labels: Readonly<Record<string, string>> },
): { ok: true; value: string } | { ok: false; error: string } {
  const t = templateOf(spec.spiffeID?.trustDomain ?? DEFAULT_TRUST_DOMAIN_TEMPLATE, TRUST_DOMAIN_FIELDS);
  const r = renderTemplate(t, { Mesh: ctx.mesh, Zone: ctx.labels['kuma.io/zone'] || ctx.zone }, ctx.labels);
  if (!r.ok) return { ok: false, error: `failed to render the trust domain: ${r.error}` };
  const problem = trustDomainProblem(r.value);
  return problem ? { ok: false, error: `the trust domain renders as "${r.value}": ${problem}` } : r;
}

/** The SPIFFE ID the identity gives this dataplane, or why it cannot give one. */
export function renderSpiffeId(
  spec: MeshIdentitySpec,
  trustDomain: string,
  dpLabels: Readonly<Record<string, string>>,
): { ok: true; value: string } | { ok: false; error: string } {
  const path = pathTemplate(spec);
  const t = templateOf(path, PATH_FIELDS);
  const vars = {
    TrustDomain: trustDomain,
    Namespace: dpLabels[NAMESPACE_LABEL],
    ServiceAccount: dpLabels[SERVICE_ACCOUNT_LABEL],
    Workload: dpLabels[WORKLOAD_LABEL],
  };
  const r = renderTemplate(t, vars, dpLabels);
  if (!r.ok) return { ok: false, error: `failed to render SPIFFE ID template: ${r.error}` };
  const id = spiffeId(trustDomain, r.value);
  return id.ok ? { ok: true, value: id.id } : { ok: false, error: id.error };
}

export function pathTemplate(spec: MeshIdentitySpec): string {
  return spec.spiffeID?.path ?? DEFAULT_PATH_TEMPLATE;
}

/** Whether the identity's path needs the `kuma.io/workload` label (Kuma's UsesWorkloadLabel). */
export function usesWorkloadLabel(spec: MeshIdentitySpec): boolean {
  const t = templateOf(pathTemplate(spec), PATH_FIELDS);
  return templateUses(t, { field: 'Workload', label: WORKLOAD_LABEL });
}

/** What a dataplane without the workload label is told (Kuma's message). */
export function missingWorkloadLabel(name: string, spec: MeshIdentitySpec): string {
  return `missing required label '${WORKLOAD_LABEL}' - dataplane is selected by MeshIdentity '${name}' with path template '${pathTemplate(spec)}'; add the label to the Dataplane, or generate its token with --workload`;
}

/** Whether the identity publishes a MeshTrust for its CA (default yes). */
export function createsMeshTrust(spec: MeshIdentitySpec): boolean {
  return spec.provider?.type === 'Bundled' && spec.provider.bundled?.meshTrustCreation !== 'Disabled';
}
