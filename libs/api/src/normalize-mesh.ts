// Other spellings of a backend's config that the seeds use, read as Kuma's own:
// `type: acm` with an `acm:` block (seed 002) is `type: acmpca` with `conf:`, and
// `certManager:` is the `conf:` of a cert-manager backend. Nothing else is changed.
import { BACKEND_SPECS, BACKEND_TYPES, type BackendSpec, type BackendType } from './backends/index.js';
import type { FieldError } from './errors.js';
import { at, isRecord, type Obj } from './fields.js';

/** Another name of a type -> the type (`acm` -> `acmpca`). */
const TYPE_ALIASES = new Map<string, BackendType>();
/** A block standing for conf -> the type names (own and aliases) that take it. */
const CONF_ALIASES = new Map<string, string[]>();
for (const type of BACKEND_TYPES) {
  const spec: BackendSpec = BACKEND_SPECS[type];
  for (const alias of spec.typeAliases ?? []) TYPE_ALIASES.set(alias, type);
  for (const alias of spec.confAliases ?? [])
    CONF_ALIASES.set(alias, [...(CONF_ALIASES.get(alias) ?? []), type, ...(spec.typeAliases ?? [])]);
}

function renameKey(obj: Obj, from: string, to: string): Obj {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k === from ? to : k, v]));
}

function normalizeBackend(backend: Obj, path: string, errors: FieldError[]): Obj {
  const type = TYPE_ALIASES.get(String(backend.type));
  let out = type === undefined ? backend : { ...backend, type };
  for (const [alias, types] of CONF_ALIASES) {
    if (out[alias] === undefined || !types.includes(String(backend.type))) continue;
    if (out.conf !== undefined) {
      errors.push({ field: at(path, alias), message: `both ${alias} and conf are set; ${alias} is another spelling of conf, keep one` });
      continue;
    }
    out = renameKey(out, alias, 'conf');
  }
  return out;
}

/** A copy of a Mesh spec with aliases resolved; shapes it does not recognise are left for validation. */
export function normalizeMeshSpec(spec: Obj, errors: FieldError[]): Obj {
  const mtls = spec.mtls;
  if (!isRecord(mtls) || !Array.isArray(mtls.backends)) return spec;
  const backends = mtls.backends.map((b: unknown, i) => (isRecord(b) ? normalizeBackend(b, `mtls.backends[${i}]`, errors) : b));
  return { ...spec, mtls: { ...mtls, backends } };
}
