// The rules of a Mesh's mtls section: Kuma's CertificateAuthorityBackend schema, strictly.
// Unknown keys inside mtls are refused (Kuma would drop them silently: a `config:` typo loses a
// whole backend config); everything outside mtls is kept as it came.
import { BACKEND_SPECS, BACKEND_TYPES, isBackendType, type BackendSpec, type BackendType } from './backends/index.js';
import { bool, duration, formatSeconds, mapping, text, type DurationBounds } from './checks.js';
import type { FieldError } from './errors.js';
import { at, describe, isRecord, type Obj } from './fields.js';
import { nameProblem } from './names.js';

export { BACKEND_TYPES } from './backends/index.js';
export const BACKEND_MODES = ['STRICT', 'PERMISSIVE'] as const;
const MTLS_KEYS = ['enabledBackend', 'skipValidation', 'backends'];
const BACKEND_KEYS = ['name', 'type', 'mode', 'dpCert', 'rootChain', 'conf'];

const YEAR = 365 * 86400;
/** A dataplane certificate: 5 s (shorter ones expire before a renewal can land) to 10 years. */
export const DP_CERT_EXPIRATION_BOUNDS: DurationBounds = {
  min: 5,
  max: 10 * YEAR,
  why: "shorter certificates expire before they can be renewed; Kuma's default is 24h",
};

/** Blocks that stand for `conf` with some type (acm:, certManager:), and which types take them. */
const CONF_ALIASES = new Map<string, BackendType[]>();
for (const type of BACKEND_TYPES) {
  for (const alias of BACKEND_SPECS[type].confAliases ?? []) CONF_ALIASES.set(alias, [...(CONF_ALIASES.get(alias) ?? []), type]);
}
const TYPE_ALIASES = BACKEND_TYPES.flatMap((t) => (BACKEND_SPECS[t].typeAliases ?? []).map((a) => `${a} is read as ${t}`));

function backend(b: unknown, path: string, errors: FieldError[]): string | undefined {
  if (!isRecord(b)) {
    errors.push({ field: path, message: `must be a mapping with name, type and conf (got ${describe(b, path)})` });
    return undefined;
  }
  for (const [alias, types] of CONF_ALIASES) {
    if (b[alias] !== undefined) {
      const named = types.map(
        (t) => [t, ...(BACKEND_SPECS[t].typeAliases ?? [])].join(' (or ') + (BACKEND_SPECS[t].typeAliases?.length ? ')' : ''),
      );
      errors.push({
        field: at(path, alias),
        message: `only a backend of type ${named.join(' or ')} takes this block; set that type or move the settings to conf`,
      });
    }
  }
  const rest: Obj = Object.fromEntries(Object.entries(b).filter(([k]) => !CONF_ALIASES.has(k)));
  mapping(rest, path, BACKEND_KEYS, errors);
  const name = text(b.name, at(path, 'name'), errors, 'give the backend a name, e.g. ca-1');
  if (name) {
    const problem = nameProblem(name);
    if (problem) errors.push({ field: at(path, 'name'), message: problem });
  }
  const type = text(b.type, at(path, 'type'), errors, `set one of ${BACKEND_TYPES.join(', ')}`);
  if (b.mode !== undefined && !(BACKEND_MODES as readonly unknown[]).includes(b.mode)) {
    errors.push({
      field: at(path, 'mode'),
      message: `must be STRICT (the default) or PERMISSIVE (got ${describe(b.mode, at(path, 'mode'))})`,
    });
  }
  if (b.dpCert !== undefined && b.dpCert !== null) {
    const dp = mapping(b.dpCert, at(path, 'dpCert'), ['rotation', 'requestTimeout'], errors);
    if (dp?.rotation !== undefined && dp.rotation !== null) {
      const rot = mapping(dp.rotation, at(path, 'dpCert.rotation'), ['expiration'], errors);
      const dpSeconds = duration(rot?.expiration, at(path, 'dpCert.rotation.expiration'), errors, DP_CERT_EXPIRATION_BOUNDS);
      const maxSeconds = isBackendType(b.type) ? BACKEND_SPECS[b.type].maxCertSeconds?.(b) : undefined;
      if (dpSeconds !== undefined && maxSeconds !== undefined && dpSeconds > maxSeconds) {
        errors.push({
          field: at(path, 'dpCert.rotation.expiration'),
          message: `is longer than its CA lives (${formatSeconds(maxSeconds)}); a certificate cannot outlive its CA`,
        });
      }
    }
    duration(dp?.requestTimeout, at(path, 'dpCert.requestTimeout'), errors);
  }
  if (b.rootChain !== undefined && b.rootChain !== null) {
    const rc = mapping(b.rootChain, at(path, 'rootChain'), ['requestTimeout'], errors);
    duration(rc?.requestTimeout, at(path, 'rootChain.requestTimeout'), errors);
  }
  if (type === undefined) return name;
  if (!isBackendType(type)) {
    errors.push({
      field: at(path, 'type'),
      message: `unknown backend type ${JSON.stringify(type)}; use one of ${BACKEND_TYPES.join(', ')}${TYPE_ALIASES.length > 0 ? ` (${TYPE_ALIASES.join(', ')})` : ''}`,
    });
    return name;
  }
  const spec: BackendSpec = BACKEND_SPECS[type];
  if ((b.conf === undefined || b.conf === null) && spec.confRequired) {
    errors.push({ field: at(path, 'conf'), message: `required for a ${type} backend; add its conf block` });
    return name;
  }
  spec.validateConf(b.conf, at(path, 'conf'), errors);
  return name;
}

/** Errors of a Mesh spec; only `mtls` is checked, other fields are Kuma's and kept as they are. */
export function validateMeshSpec(spec: Obj): FieldError[] {
  const errors: FieldError[] = [];
  if (spec.mtls === undefined || spec.mtls === null) return errors;
  const mtls = mapping(spec.mtls, 'mtls', MTLS_KEYS, errors);
  if (!mtls) return errors;
  bool(mtls.skipValidation, 'mtls.skipValidation', errors);
  const names = new Map<string, number>();
  if (mtls.backends !== undefined && mtls.backends !== null) {
    if (!Array.isArray(mtls.backends)) {
      errors.push({ field: 'mtls.backends', message: `must be a list of backends (got ${describe(mtls.backends, 'mtls.backends')})` });
    } else {
      mtls.backends.forEach((b: unknown, i) => {
        const path = `mtls.backends[${i}]`;
        const name = backend(b, path, errors);
        if (name === undefined) return;
        const first = names.get(name);
        if (first !== undefined) {
          errors.push({
            field: at(path, 'name'),
            message: `"${name}" is already the name of mtls.backends[${first}]; give each backend its own name`,
          });
        } else names.set(name, i);
      });
    }
  }
  const enabled = text(mtls.enabledBackend, 'mtls.enabledBackend', errors);
  if (enabled && !names.has(enabled)) {
    errors.push({
      field: 'mtls.enabledBackend',
      message: names.size
        ? `"${enabled}" is not the name of a backend; set it to one of ${[...names.keys()].join(', ')}, or add a backend named "${enabled}"`
        : `"${enabled}" is not the name of a backend; add a backend named "${enabled}" under mtls.backends`,
    });
  }
  return errors;
}
