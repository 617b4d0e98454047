import { isDeepStrictEqual } from 'node:util';
import { secretReferences, type FieldError, type MeshSpec, type MtlsBackend, type Resource, type ResourceInput, type ResourceKey } from '@meshca/api';
import type { ResourceStore, StoreWrite } from '@meshca/store';
import type { Logger } from '@meshca/common';
import { builtinSecretNames, generateBuiltinCa } from './builtin/index.js';
import { checkProvidedCa } from './provided/index.js';
import { createDataSourceReader, DataSourceError, type ResourceGetter } from './datasource.js';
import { openCaBackend } from './open.js';
import { validateByTestCertificate } from './test-certificate.js';

export interface MeshCaCheck {
  store: ResourceStore;
  mesh: string;
  spec: MeshSpec;
  /** The stored spec, if any: a backend whose config did not change is not checked again. */
  previous?: MeshSpec;
  /** `mtls.skipValidation`, or an operator override: no test certificate is issued. */
  skipTestCertificate?: boolean;
}

/**
 * What global checks before it stores a Mesh: every referenced secret exists, and every new or
 * changed backend can really serve as a CA. Returns the failing fields; empty means go.
 */
export async function checkMeshCas(check: MeshCaCheck): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  const get = check.store.get.bind(check.store);
  for (const ref of secretReferences({ meta: { type: 'Mesh', name: check.mesh }, spec: check.spec })) {
    const found = (await get({ type: 'Secret', mesh: check.mesh, name: ref.secret })) ?? (await get({ type: 'GlobalSecret', name: ref.secret }));
    if (!found) {
      errors.push({ field: `${ref.field}.secret`, message: `secret "${ref.secret}" does not exist in mesh "${check.mesh}" nor as a global secret; create it first (meshctl apply -f), then apply the Mesh again` });
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
  const get: ResourceGetter = async (k) => (same(k) ? { meta: { ...secret.meta, labels: secret.meta.labels ?? {}, creationTime: '', modificationTime: '', version: 0 }, spec: secret.spec } : store.get(k));
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
    const hint = backend.type === 'provided' ? '. To replace a provided CA, put the new certificate and key in new Secrets and point the backend at both in one Mesh apply' : '';
    for (const e of await checkBackendAt(user.mesh, backend, index, get, spec?.mtls?.skipValidation === true)) {
      errors.push({ field: 'data', message: `mesh "${user.mesh}" reads this ${key.type} at ${user.field}, and with this value ${e.field}: ${e.message}${hint}` });
    }
  }
  return errors;
}

/** One backend's checks; the DataSource it cannot read is a failing field too. */
async function checkBackendAt(mesh: string, backend: MtlsBackend, index: number, get: ResourceGetter, skipTestCertificate: boolean): Promise<FieldError[]> {
  const field = `mtls.backends[${index}]`;
  try {
    return await checkBackend(backend, field, { mesh, backend, readDataSource: createDataSourceReader(get, mesh) }, get, skipTestCertificate);
  } catch (err) {
    if (err instanceof DataSourceError) return [{ field: err.field.startsWith('mtls.') ? err.field : `${field}.${err.field}`, message: err.reason }];
    throw err;
  }
}

async function checkBackend(
  backend: MtlsBackend,
  field: string,
  ctx: Parameters<typeof checkProvidedCa>[0],
  get: ResourceGetter,
  skipTestCertificate: boolean,
): Promise<FieldError[]> {
  switch (backend.type) {
    case 'builtin':
      return [];
    case 'provided':
      return checkProvidedCa(ctx, field);
    case 'cert-manager':
      return [{
        field: `${field}.type`,
        message: `backend "${backend.name}" is a cert-manager issuer, which needs a Kubernetes cluster running cert-manager; meshca runs in Universal mode, so use builtin, provided, vault or acmpca`,
      }];
    case 'vault':
    case 'acmpca': {
      if (skipTestCertificate) return [];
      let ca;
      try {
        ca = await openCaBackend(ctx.mesh, backend, { get });
      } catch (err) {
        return [{ field, message: `${backend.type} backend "${backend.name}" cannot be used: ${err instanceof Error ? err.message : String(err)}` }];
      }
      try {
        return await validateByTestCertificate(ctx.mesh, backend, ca, field);
      } finally {
        await ca.close();
      }
    }
  }
}

function isUnchanged(backend: MtlsBackend, previous: MeshSpec | undefined): boolean {
  const before = previous?.mtls?.backends.find((b) => b.name === backend.name);
  return before !== undefined && isDeepStrictEqual(before, backend);
}

/**
 * The writes that give every builtin backend of a Mesh a CA, as two Secrets under Kuma's names.
 * They are committed with the Mesh in one store transaction (see apps/global/src/apply.ts), so a
 * crash leaves the Mesh with its CAs or neither, and of two concurrent applies only one CA wins.
 * A half-made CA (one of the two Secrets, left by an older version that wrote them one by one, or
 * put there by hand) is replaced whole: a key without its certificate, or the reverse, cannot sign.
 */
export async function builtinCaWrites(opts: { store: ResourceStore; mesh: string; spec: MeshSpec; log: Logger }): Promise<StoreWrite[]> {
  const writes: StoreWrite[] = [];
  for (const backend of opts.spec.mtls?.backends ?? []) {
    if (backend.type !== 'builtin') continue;
    const names = builtinSecretNames(opts.mesh, backend.name);
    const [cert, key] = await Promise.all([
      opts.store.get({ type: 'Secret', mesh: opts.mesh, name: names.cert }),
      opts.store.get({ type: 'Secret', mesh: opts.mesh, name: names.key }),
    ]);
    if (cert && key) continue;
    if (cert || key) {
      opts.log.warn({ mesh: opts.mesh, backend: backend.name, present: (cert ?? key)?.meta.name },
        'builtin CA is half-made (one of its two Secrets is missing): replacing it with a new CA');
    }
    const ca = await generateBuiltinCa(opts.mesh, backend);
    const secret = (name: string, pem: string, existing: Resource | undefined): StoreWrite => {
      const input = { meta: { type: 'Secret' as const, mesh: opts.mesh, name }, spec: { data: Buffer.from(pem).toString('base64') } };
      return existing ? { op: 'update', input, expectedVersion: existing.meta.version } : { op: 'create', input };
    };
    // Key first: a zone applying the commit in order never holds the certificate without its key.
    writes.push(secret(names.key, ca.keyPem, key), secret(names.cert, ca.certPem, cert));
  }
  return writes;
}

export interface SecretUser {
  mesh: string;
  field: string;
}

/** The Meshes that reference a Secret or GlobalSecret, so it is not deleted from under them. */
export async function findSecretUsers(store: ResourceStore, key: ResourceKey): Promise<SecretUser[]> {
  const meshes: Resource[] = key.type === 'Secret' && key.mesh !== undefined
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
      if (names && (names.cert === key.name || names.key === key.name)) users.push({ mesh: mesh.meta.name, field: `mtls.backends[${i}] (builtin CA)` });
    }
  }
  return users;
}
