export * from './messages.js';
export { DEFAULT_LIMITS, type KdsLimits } from './limits.js';
export { applyBatch, BatchRefused, type ApplyOptions, type Batch } from './apply-batch.js';
export {
  createKdsServer,
  globalKeyForZone,
  zoneTokenAuthenticator,
  type KdsAuthResult,
  type KdsServer,
  type KdsServerOptions,
  type ZoneCredential,
  type ZoneNack,
  type ZoneState,
} from './server.js';
export {
  APPLIED_EPOCH_LABEL,
  APPLIED_REVISION_LABEL,
  backoffDelay,
  createKdsClient,
  idleKdsStatus,
  readApplied,
  readAppliedRevision,
  type Backoff,
  type KdsClient,
  type KdsClientOptions,
  type KdsClientStatus,
} from './client.js';
export { createDatasetGuard, type DatasetGuard, type Divergence } from './dataset-guard.js';
