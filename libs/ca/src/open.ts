import type { MtlsBackend } from '@meshca/api';
import type { Logger } from '@meshca/common';
import type { IssuerPool } from '@meshca/pki';
import type { BackendContext, CaBackend } from './backend.js';
import { createBuiltinBackend, loadBuiltinCa } from './builtin/index.js';
import { createDataSourceReader, type ResourceGetter } from './datasource.js';
import { CaError } from './errors.js';
import { createProvidedBackend } from './provided/index.js';
import { createVaultBackend, type VaultBackendOptions } from './vault/index.js';
import { createAcmPcaBackend, type AcmPcaOptions } from './acmpca/index.js';

/** What a backend may use of the control plane that runs it. */
export interface BackendEnv {
  /** Reads Secrets and GlobalSecrets (the control plane's store). */
  get: ResourceGetter;
  /** Worker threads for local signing (builtin, provided). */
  pool?: IssuerPool;
  log?: Logger;
  /** Per-backend client settings (requests in flight, token renewal). */
  vault?: VaultBackendOptions;
  acmpca?: AcmPcaOptions;
}

/** Opens the CA behind one backend of one mesh: the one place that maps a backend type to its code. */
export async function openCaBackend(mesh: string, backend: MtlsBackend, env: BackendEnv): Promise<CaBackend> {
  const ctx: BackendContext = { mesh, backend, readDataSource: createDataSourceReader(env.get, mesh) };
  const local = env.pool ? { pool: env.pool } : {};
  switch (backend.type) {
    case 'builtin': {
      const material = await loadBuiltinCa(env.get, mesh, backend.name);
      if (!material) throw new CaError(`builtin backend "${backend.name}" of mesh "${mesh}": its CA secrets have not been received from global yet`, true);
      return createBuiltinBackend(ctx, material, local);
    }
    case 'provided':
      return createProvidedBackend(ctx, local);
    case 'vault':
      return createVaultBackend(ctx, env, { ...env.vault, ...(env.log ? { log: env.log } : {}) });
    case 'acmpca':
      return createAcmPcaBackend(ctx, env, { ...env.acmpca, ...(env.log ? { log: env.log } : {}) });
    case 'cert-manager':
      throw new CaError(`backend "${backend.name}" of mesh "${mesh}" is a cert-manager issuer, which needs Kubernetes; meshca cannot issue from it`, false);
  }
}
