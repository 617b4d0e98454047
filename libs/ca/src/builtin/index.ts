import type { CaPlugin } from '../backend.js';
import { CaError } from '../errors.js';
import { createBuiltinBackend, loadBuiltinCa } from './builtin.js';

export { builtinSecretNames, createBuiltinBackend, generateBuiltinCa, loadBuiltinCa } from './builtin.js';
export { builtinCaWrites, type CaSecretWrite } from './ca-writes.js';
export { createLocalBackend } from './local-backend.js';
export type { CaMaterialPem, LocalBackendOptions } from './local-backend.js';

/** A CA global generated and synced as two Secrets; zones sign with it locally. */
export const plugin: CaPlugin = {
  async open(ctx, env) {
    const material = await loadBuiltinCa(env.get, ctx.mesh, ctx.backend.name);
    if (!material)
      throw new CaError(
        `builtin backend "${ctx.backend.name}" of mesh "${ctx.mesh}": its CA secrets have not been received from global yet`,
        true,
      );
    return createBuiltinBackend(ctx, material, env.pool ? { pool: env.pool } : {});
  },
  // Global makes the CA itself when it stores the Mesh: nothing to check beforehand.
  check: async () => [],
};
