// The CA Secrets of a Mesh's builtin backends, as writes global commits together with the Mesh.
import type { MeshSpec, Resource, ResourceInput } from '@meshca/api';
import type { Logger } from '@meshca/common';
import type { ResourceGetter } from '../backend.js';
import { builtinSecretNames, generateBuiltinCa } from './builtin.js';

/** A create or an update of one Secret (the shape of a ResourceStore commit's writes). */
export type CaSecretWrite = { op: 'create'; input: ResourceInput } | { op: 'update'; input: ResourceInput; expectedVersion: number };

/**
 * The writes that give every builtin backend of a Mesh a CA, as two Secrets under Kuma's names.
 * They are committed with the Mesh in one store transaction (see apps/global/src/apply.ts), so a
 * crash leaves the Mesh with its CAs or neither, and of two concurrent applies only one CA wins.
 * A half-made CA (one of the two Secrets, left by an older version that wrote them one by one, or
 * put there by hand) is replaced whole: a key without its certificate, or the reverse, cannot sign.
 */
export async function builtinCaWrites(opts: {
  store: { get: ResourceGetter };
  mesh: string;
  spec: MeshSpec;
  log: Logger;
}): Promise<CaSecretWrite[]> {
  const writes: CaSecretWrite[] = [];
  for (const backend of opts.spec.mtls?.backends ?? []) {
    if (backend.type !== 'builtin') continue;
    const names = builtinSecretNames(opts.mesh, backend.name);
    const [cert, key] = await Promise.all([
      opts.store.get({ type: 'Secret', mesh: opts.mesh, name: names.cert }),
      opts.store.get({ type: 'Secret', mesh: opts.mesh, name: names.key }),
    ]);
    if (cert && key) continue;
    if (cert || key) {
      opts.log.warn(
        { mesh: opts.mesh, backend: backend.name, present: (cert ?? key)?.meta.name },
        'builtin CA is half-made (one of its two Secrets is missing): replacing it with a new CA',
      );
    }
    const ca = await generateBuiltinCa(opts.mesh, backend);
    const secret = (name: string, pem: string, existing: Resource | undefined): CaSecretWrite => {
      const input = { meta: { type: 'Secret' as const, mesh: opts.mesh, name }, spec: { data: Buffer.from(pem).toString('base64') } };
      return existing ? { op: 'update', input, expectedVersion: existing.meta.version } : { op: 'create', input };
    };
    // Key first: a zone applying the commit in order never holds the certificate without its key.
    writes.push(secret(names.key, ca.keyPem, key), secret(names.cert, ca.certPem, cert));
  }
  return writes;
}
