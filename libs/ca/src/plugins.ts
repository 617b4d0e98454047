// Every CA backend a control plane can run, one per folder, in one registry. Its type is keyed by
// libs/api's BACKEND_SPECS, so a backend type without a plugin here does not compile.
import type { BackendType, MtlsBackend } from '@meshca/api';
import type { BackendContext, BackendEnv, CaBackend, CaPlugin } from './backend.js';
import { createDataSourceReader } from './datasource.js';
import { plugin as acmpca } from './acmpca/index.js';
import { plugin as builtin } from './builtin/index.js';
import { plugin as certManager } from './cert-manager/index.js';
import { plugin as provided } from './provided/index.js';
import { plugin as vault } from './vault/index.js';

export const CA_PLUGINS: { readonly [T in BackendType]: CaPlugin } = {
  builtin,
  provided,
  vault,
  acmpca,
  'cert-manager': certManager,
};

export function backendContext(mesh: string, backend: MtlsBackend, env: Pick<BackendEnv, 'get'>): BackendContext {
  return { mesh, backend, readDataSource: createDataSourceReader(env.get, mesh) };
}

/** Opens the CA behind one backend of one mesh. */
export function openCaBackend(mesh: string, backend: MtlsBackend, env: BackendEnv): Promise<CaBackend> {
  return CA_PLUGINS[backend.type].open(backendContext(mesh, backend, env), env);
}
