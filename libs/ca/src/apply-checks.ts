// What global checks of a Mesh's CA backends before it stores the Mesh (or a Secret they read):
// every referenced secret exists, and every new or changed backend can serve, through its plugin.
import { isDeepStrictEqual } from 'node:util';
import { secretReferences, type FieldError, type MeshSpec, type MtlsBackend } from '@meshca/api';
import type { ResourceGetter } from './backend.js';
import { DataSourceError } from './datasource.js';
import { backendContext, CA_PLUGINS } from './plugins.js';

export interface MeshCaCheck {
  /** Where Secrets and GlobalSecrets are read (global's store). */
  store: { get: ResourceGetter };
  mesh: string;
  spec: MeshSpec;
  /** The stored spec, if any: a backend whose config did not change is not checked again. */
  previous?: MeshSpec | undefined;
  /** `mtls.skipValidation`, or an operator override: no test certificate is issued. */
  skipTestCertificate?: boolean;
}

/** The failing fields of a Mesh's CA backends; empty means go. */
export async function checkMeshCas(check: MeshCaCheck): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  const get: ResourceGetter = (k) => check.store.get(k);
  for (const ref of secretReferences({ meta: { type: 'Mesh', name: check.mesh }, spec: check.spec })) {
    const found =
      (await get({ type: 'Secret', mesh: check.mesh, name: ref.secret })) ?? (await get({ type: 'GlobalSecret', name: ref.secret }));
    if (!found) {
      errors.push({
        field: `${ref.field}.secret`,
        message: `secret "${ref.secret}" does not exist in mesh "${check.mesh}" nor as a global secret; create it first (meshctl apply -f), then apply the Mesh again`,
      });
    }
  }
  if (errors.length > 0) return errors;

  const backends = check.spec.mtls?.backends ?? [];
  for (const [index, backend] of backends.entries()) {
    if (isUnchanged(backend, check.previous)) continue;
    errors.push(...(await checkBackendAt(check.mesh, backend, index, get, check.skipTestCertificate === true)));
  }
  return errors;
}

/** One backend's apply-time check (its plugin's); a DataSource it cannot read is a failing field too. */
export async function checkBackendAt(
  mesh: string,
  backend: MtlsBackend,
  index: number,
  get: ResourceGetter,
  skipTestCertificate: boolean,
): Promise<FieldError[]> {
  const field = `mtls.backends[${index}]`;
  try {
    return await CA_PLUGINS[backend.type].check(backendContext(mesh, backend, { get }), field, { env: { get }, skipTestCertificate });
  } catch (err) {
    if (err instanceof DataSourceError)
      return [{ field: err.field.startsWith('mtls.') ? err.field : `${field}.${err.field}`, message: err.reason }];
    throw err;
  }
}

function isUnchanged(backend: MtlsBackend, previous: MeshSpec | undefined): boolean {
  const before = previous?.mtls?.backends.find((b) => b.name === backend.name);
  return before !== undefined && isDeepStrictEqual(before, backend);
}
