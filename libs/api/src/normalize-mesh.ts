// Other spellings of a backend's config that the seeds use, read as Kuma's own:
// `type: acm` with an `acm:` block (seed 002) is `type: acmpca` with `conf:`, and
// `certManager:` is the `conf:` of a cert-manager backend. Nothing else is changed.
import type { FieldError } from './errors.js';
import { at, isRecord, type Obj } from './fields.js';

const ALIASES: Record<string, readonly string[]> = { acm: ['acm', 'acmpca'], certManager: ['cert-manager'] };

function renameKey(obj: Obj, from: string, to: string): Obj {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k === from ? to : k, v]));
}

function normalizeBackend(backend: Obj, path: string, errors: FieldError[]): Obj {
  let out = backend.type === 'acm' ? { ...backend, type: 'acmpca' } : backend;
  for (const [alias, types] of Object.entries(ALIASES)) {
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
  const backends = mtls.backends.map((b: unknown, i) =>
    isRecord(b) ? normalizeBackend(b, `mtls.backends[${i}]`, errors) : b,
  );
  return { ...spec, mtls: { ...mtls, backends } };
}
