// A Secret that Mesh backends read is part of those backends: who reads it (so it is not deleted
// from under them), and the check its new value gets before it is stored.
import { secretReferences, type FieldError, type MeshSpec, type Resource, type ResourceInput, type ResourceKey } from '@meshca/api';
import { builtinSecretNames, checkBackendAt, type ResourceGetter } from '@meshca/ca';
import type { ResourceStore } from '@meshca/store';

export interface SecretUser {
  mesh: string;
  field: string;
}

/** The Meshes that reference a Secret or GlobalSecret, so it is not deleted from under them. */
export async function findSecretUsers(store: ResourceStore, key: ResourceKey): Promise<SecretUser[]> {
  const meshes: Resource[] =
    key.type === 'Secret' && key.mesh !== undefined
      ? [await store.get({ type: 'Mesh', name: key.mesh })].filter((m): m is Resource => m !== undefined)
      : await store.list('Mesh');
  const users: SecretUser[] = [];
  for (const mesh of meshes) {
    const spec = mesh.spec as MeshSpec;
    for (const ref of secretReferences({ meta: { type: 'Mesh', name: mesh.meta.name }, spec })) {
      if (ref.secret === key.name) users.push({ mesh: mesh.meta.name, field: ref.field });
    }
    if (key.type !== 'Secret') continue;
    for (const [i, backend] of (spec.mtls?.backends ?? []).entries()) {
      const names = backend.type === 'builtin' ? builtinSecretNames(mesh.meta.name, backend.name) : undefined;
      if (names && (names.cert === key.name || names.key === key.name))
        users.push({ mesh: mesh.meta.name, field: `mtls.backends[${i}] (builtin CA)` });
    }
  }
  return users;
}

/**
 * What global checks before it stores a Secret or GlobalSecret that Mesh backends read (a Vault
 * token, ACM keys, a provided CA): each of those backends is checked with the new value exactly
 * as a changed backend is (test certificate, provided-CA checks), so a bad value is refused before
 * zones fail with it. Returns the failing fields of the Secret; empty means go.
 */
export async function checkSecretChange(store: ResourceStore, secret: ResourceInput): Promise<FieldError[]> {
  const key = secret.meta;
  const users = await findSecretUsers(store, key);
  if (users.length === 0) return [];
  const same = (k: ResourceKey) => k.type === key.type && k.name === key.name && k.mesh === key.mesh;
  // The stored state with this Secret's new value in it.
  const get: ResourceGetter = async (k) =>
    same(k)
      ? {
          meta: { ...secret.meta, labels: secret.meta.labels ?? {}, creationTime: '', modificationTime: '', version: 0 },
          spec: secret.spec,
        }
      : store.get(k);
  const errors: FieldError[] = [];
  const checked = new Set<string>();
  for (const user of users) {
    const index = Number(/^mtls\.backends\[(\d+)\]/.exec(user.field)?.[1] ?? NaN);
    if (checked.has(`${user.mesh}/${index}`)) continue;
    checked.add(`${user.mesh}/${index}`);
    const spec = (await store.get({ type: 'Mesh', name: user.mesh }))?.spec as MeshSpec | undefined;
    const backend = spec?.mtls?.backends[index];
    if (backend === undefined) continue;
    // A provided CA's certificate and key change together: in place, one Secret at a time, they would not match.
    const hint =
      backend.type === 'provided'
        ? '. To replace a provided CA, put the new certificate and key in new Secrets and point the backend at both in one Mesh apply'
        : '';
    for (const e of await checkBackendAt(user.mesh, backend, index, get, spec?.mtls?.skipValidation === true)) {
      errors.push({
        field: 'data',
        message: `mesh "${user.mesh}" reads this ${key.type} at ${user.field}, and with this value ${e.field}: ${e.message}${hint}`,
      });
    }
  }
  return errors;
}
