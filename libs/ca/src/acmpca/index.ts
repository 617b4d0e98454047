import type { CaPlugin } from '../backend.js';
import { checkByTestCertificate } from '../test-certificate.js';
import { openAcmPcaBackend } from './acmpca.js';

export { openAcmPcaBackend, type AcmPcaOptions } from './acmpca.js';
export { TEMPLATE as ACMPCA_TEMPLATE, signingAlgorithmFor } from './request.js';
export { createLimiter, type Limiter } from '../limiter.js';

/** An AWS ACM Private CA, through @aws-sdk/client-acm-pca from each control plane. */
export const plugin: CaPlugin = {
  open: (ctx, env) => openAcmPcaBackend(ctx, env.log ? { log: env.log } : {}),
  check: (ctx, field, opts) => checkByTestCertificate(ctx, field, opts, plugin),
};
