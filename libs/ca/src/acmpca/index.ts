import type { BackendContext, CaBackend } from '../backend.js';
import { CaError } from '../errors.js';
import type { BackendEnv } from '../open.js';

// Replaced by the acmpca backend (issue 6).
export async function createAcmPcaBackend(ctx: BackendContext, _env: BackendEnv): Promise<CaBackend> {
  throw new CaError(`acmpca backend "${ctx.backend.name}": not available in this build`, false);
}
