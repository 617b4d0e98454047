import type { CaPlugin } from '../backend.js';
import { checkByTestCertificate } from '../test-certificate.js';
export { openAcmPcaBackend, type AcmPcaOptions } from './acmpca.js';
export { TEMPLATE as ACMPCA_TEMPLATE, signingAlgorithmFor } from './request.js';
export { createLimiter, type Limiter } from '../limiter.js';

/** An AWS ACM Private CA, through @aws-sdk/client-acm-pca from each control plane. */
export const plugin: CaPlugin = {
  // The AWS SDK is loaded by the first mesh that uses ACM PCA, not by every control plane at start.
  open: async (ctx, env) => (await import('./acmpca.js')).openAcmPcaBackend(ctx, env.log ? { log: env.log } : {}),
  check: (ctx, field, opts) => checkByTestCertificate(ctx, field, opts, plugin),
};
