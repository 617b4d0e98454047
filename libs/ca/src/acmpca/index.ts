import type { BackendContext, CaBackend } from '../backend.js';
import type { BackendEnv } from '../open.js';
import { openAcmPcaBackend, type AcmPcaOptions } from './acmpca.js';

export { openAcmPcaBackend, type AcmPcaOptions } from './acmpca.js';
export { TEMPLATE as ACMPCA_TEMPLATE, signingAlgorithmFor } from './request.js';
export { createLimiter, type Limiter } from '../limiter.js';

/** The acmpca backend as openCaBackend opens it; `options` are for tests, benchmarks and tuning. */
export async function createAcmPcaBackend(ctx: BackendContext, env: BackendEnv, options: AcmPcaOptions = {}): Promise<CaBackend> {
  return openAcmPcaBackend(ctx, { ...(env.log ? { log: env.log } : {}), ...options });
}
