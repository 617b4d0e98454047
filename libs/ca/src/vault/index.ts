import type { BackendContext, CaBackend } from '../backend.js';
import { CaError } from '../errors.js';
import type { BackendEnv } from '../open.js';

// Replaced by the vault backend (issue 5).
export async function createVaultBackend(ctx: BackendContext, _env: BackendEnv): Promise<CaBackend> {
  throw new CaError(`vault backend "${ctx.backend.name}": not available in this build`, false);
}
