import {
  checkRotation,
  ValidationError,
  validateResource,
  type MeshSpec,
  type Resource,
  type ResourceInput,
  type ResourceKey,
  type RotationView,
} from '@meshca/api';
import { builtinCaWrites, builtinSecretNames, checkMeshCas } from '@meshca/ca';
import { checkSecretChange, findSecretUsers } from './secret-checks.js';
import { checkIdentityDelete, checkIdentityResource } from './identity-checks.js';
import { ConflictError, NotFoundError, type ResourceStore, type StoreWrite } from '@meshca/store';
import type { Logger } from '@meshca/common';
import { ApiError } from '@meshca/http';
import { TOKEN_VERIFICATION_SECRET } from '@meshca/tokens';

export interface ApplyDeps {
  store: ResourceStore;
  log: Logger;
  /** What the zones reported of a mesh's dataplanes; absent, rotation steps are not checked. */
  rotationView?: (mesh: string) => Promise<RotationView>;
}

/** A Mesh label that skips the rotation validators for one apply, like --force-rotation. */
export const FORCE_ROTATION_LABEL = 'meshca.io/force-rotation';

export interface ApplyOptions {
  dryRun?: boolean;
  /** When set, the write is refused unless the stored version is still this one. */
  expectedVersion?: number | undefined;
  /** Skip the CA rotation validators (logged). */
  forceRotation?: boolean;
}

export interface ApplyResult {
  resource: Resource | undefined;
  created: boolean;
}

/**
 * The data path of an apply on global: validate the shape, check what the Mesh references and
 * what its CAs can do, then store in one write. Nothing is stored when any step refuses.
 */
export async function applyResource(deps: ApplyDeps, applied: ResourceInput, opts: ApplyOptions = {}): Promise<ApplyResult> {
  refuseReserved(applied.meta);
  refuseBuiltinCaSecret(applied.meta);
  const { input, forceLabel } = withoutForceLabel(applied);
  const shapeErrors = validateResource(input);
  if (shapeErrors.length > 0) throw new ValidationError(shapeErrors);

  const key = input.meta;
  const existing = await deps.store.get(key);
  if (opts.expectedVersion !== undefined && !existing) {
    throw new ApiError(
      412,
      'Precondition failed',
      `If-Match names version ${opts.expectedVersion} of ${key.type} "${key.name}", which does not exist; apply without If-Match to create it`,
    );
  }
  if (opts.expectedVersion !== undefined && existing && existing.meta.version !== opts.expectedVersion) {
    throw new ApiError(
      409,
      'Conflict',
      `${key.type} "${key.name}" changed since version ${opts.expectedVersion} (now ${existing.meta.version}); read it again and re-apply`,
    );
  }
  if (key.type === 'Secret' && key.mesh !== undefined && !(await deps.store.get({ type: 'Mesh', name: key.mesh }))) {
    throw new ValidationError([{ field: 'mesh', message: `mesh "${key.mesh}" does not exist; apply the Mesh first, then its secrets` }]);
  }

  await checkIdentityResource(deps.store, input, existing);

  if (key.type === 'Mesh' && existing && deps.rotationView) {
    const rotation = checkRotation(existing.spec as MeshSpec, input.spec as MeshSpec, await deps.rotationView(key.name));
    const forced = opts.forceRotation === true || forceLabel;
    if (rotation.errors.length > 0 && !forced)
      throw new ValidationError(rotation.errors, `CA rotation step "${rotation.step}" taken too soon`);
    if (rotation.errors.length > 0) {
      deps.log.warn(
        { mesh: key.name, step: rotation.step, skipped: rotation.errors.map((e) => e.message) },
        'rotation validators overridden (force rotation)',
      );
    }
  }
  if ((key.type === 'Secret' || key.type === 'GlobalSecret') && existing) {
    // A Secret a backend reads is part of that backend: a new value is checked like a changed backend.
    const secretErrors = await checkSecretChange(deps.store, input);
    if (secretErrors.length > 0)
      throw new ValidationError(secretErrors, `${key.type} is read by Mesh mTLS backends that cannot use the new value`);
  }
  if (key.type === 'Mesh') {
    const caErrors = await checkMeshCas({
      store: deps.store,
      mesh: key.name,
      spec: input.spec as MeshSpec,
      previous: existing?.spec as MeshSpec | undefined,
      skipTestCertificate: (input.spec as MeshSpec).mtls?.skipValidation === true,
    });
    if (caErrors.length > 0) throw new ValidationError(caErrors, 'Mesh mTLS backends are not usable');
  }
  if (opts.dryRun) return { resource: existing, created: !existing };

  const resource =
    key.type === 'Mesh'
      ? await storeMesh(deps, input, existing, opts.expectedVersion)
      : existing
        ? await deps.store.update(input, opts.expectedVersion ?? existing.meta.version)
        : await deps.store.create(input);
  deps.log.info({ type: key.type, name: key.name, mesh: key.mesh, version: resource.meta.version }, existing ? 'updated' : 'created');
  return { resource, created: !existing };
}

/**
 * The Mesh and the CAs its builtin backends still need, in one commit: a crash leaves both or
 * neither, and the CA Secrets come first in the change feed, so a zone never holds a Mesh whose
 * CA it has not received. When another apply made the same CA between the read and the commit,
 * its CA is used.
 */
async function storeMesh(
  deps: ApplyDeps,
  input: ResourceInput,
  existing: Resource | undefined,
  expectedVersion: number | undefined,
): Promise<Resource> {
  const mesh = input.meta.name;
  for (let attempt = 1; ; attempt++) {
    const caWrites = await builtinCaWrites({ store: deps.store, mesh, spec: input.spec as MeshSpec, log: deps.log });
    const meshWrite: StoreWrite = existing
      ? { op: 'update', input, expectedVersion: expectedVersion ?? existing.meta.version }
      : { op: 'create', input };
    try {
      const written = await deps.store.commit([...caWrites, meshWrite]);
      for (const w of caWrites) {
        if (w.input.meta.name.includes('.ca-builtin-cert-'))
          deps.log.info({ mesh, certSecretName: w.input.meta.name }, 'generated builtin CA');
      }
      await deleteRemovedBuiltinCas(deps, mesh, existing?.spec as MeshSpec | undefined, input.spec as MeshSpec);
      return written[written.length - 1] as Resource;
    } catch (err) {
      if (err instanceof ConflictError && err.key.type === 'Secret' && attempt < 3) continue;
      throw err;
    }
  }
}

/**
 * A builtin backend taken out of its Mesh (the last step of a rotation) takes its CA with it: its
 * key is synced to every zone, and a CA nobody issues from any more need not sit there. After the
 * Mesh is stored (a failure here leaves the Secrets, as before, and says so); the key first.
 */
async function deleteRemovedBuiltinCas(deps: ApplyDeps, mesh: string, before: MeshSpec | undefined, after: MeshSpec): Promise<void> {
  const kept = new Set((after.mtls?.backends ?? []).map((b) => b.name));
  for (const b of before?.mtls?.backends ?? []) {
    if (b.type !== 'builtin' || kept.has(b.name)) continue;
    const names = builtinSecretNames(mesh, b.name);
    try {
      for (const name of [names.key, names.cert]) await deps.store.delete({ type: 'Secret', mesh, name }).catch(ignoreNotFound);
      deps.log.info({ mesh, backend: b.name }, 'deleted the CA of a removed builtin backend');
    } catch (err) {
      deps.log.warn(
        { mesh, backend: b.name, err: err instanceof Error ? err.message : String(err) },
        `could not delete the CA Secrets of removed builtin backend "${b.name}"; delete ${names.key} and ${names.cert} with meshctl delete secret`,
      );
    }
  }
}

/**
 * The override label acts on the apply that carries it and is not stored: otherwise every later
 * edit of the stored Mesh (get, change, apply) would skip the validators without anyone asking.
 */
function withoutForceLabel(input: ResourceInput): { input: ResourceInput; forceLabel: boolean } {
  const labels = input.meta.labels;
  if (input.meta.type !== 'Mesh' || labels?.[FORCE_ROTATION_LABEL] === undefined) return { input, forceLabel: false };
  const { [FORCE_ROTATION_LABEL]: value, ...rest } = labels;
  return { input: { ...input, meta: { ...input.meta, labels: rest } }, forceLabel: value === 'true' };
}

/**
 * Deleting a Mesh deletes what lives in it (as Kuma does); deleting a Secret that a Mesh
 * still references is refused, naming the Mesh.
 */
export async function deleteResource(deps: ApplyDeps, key: ResourceKey): Promise<void> {
  refuseReserved(key);
  if (key.type === 'Secret' || key.type === 'GlobalSecret') {
    const users = await findSecretUsers(deps.store, key);
    if (users.length > 0) {
      throw new ApiError(
        409,
        'Secret in use',
        `${key.type} "${key.name}" is referenced by ${users.map((u) => `mesh "${u.mesh}" at ${u.field}`).join(', ')}; change those Meshes first`,
      );
    }
  }
  await checkIdentityDelete(deps.store, key);
  await deps.store.delete(key);
  if (key.type === 'Mesh') {
    for (const type of ['Secret', 'MeshIdentity', 'MeshTrust', 'MeshTLS'] as const) {
      for (const r of await deps.store.list(type, { mesh: key.name })) {
        await deps.store.delete(r.meta).catch(ignoreNotFound);
      }
    }
  }
  deps.log.info({ type: key.type, name: key.name, mesh: key.mesh }, 'deleted');
}

/** A concurrent delete of the same resource is not a failure of this one. */
function ignoreNotFound(err: unknown): void {
  if (!(err instanceof NotFoundError)) throw err;
}

/**
 * A builtin CA's two Secrets are made by global with their Mesh, in one commit: written by hand,
 * one of them would be a half-made CA. (Deleting an unused one is allowed.)
 */
function refuseBuiltinCaSecret(key: ResourceKey): void {
  if (key.type !== 'Secret' || key.mesh === undefined) return;
  const prefix = `${key.mesh}.ca-builtin-`;
  if (!key.name.startsWith(`${prefix}cert-`) && !key.name.startsWith(`${prefix}key-`)) return;
  throw new ApiError(
    403,
    'Reserved resource',
    `Secret "${key.name}" holds a builtin CA, which global creates with its Mesh; to use another CA, add a builtin backend under a new name (or a provided one) and rotate to it (docs/ca-rotation.md)`,
  );
}

/** The token verification keys are written by global itself; an operator edit would lock dataplanes out. */
function refuseReserved(key: ResourceKey): void {
  if (key.type === 'GlobalSecret' && key.name === TOKEN_VERIFICATION_SECRET) {
    throw new ApiError(
      403,
      'Reserved resource',
      `GlobalSecret "${TOKEN_VERIFICATION_SECRET}" is managed by global (token signing keys); rotate or revoke keys with meshctl rotate signing-key / revoke signing-key instead`,
    );
  }
}
