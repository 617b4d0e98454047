export { createIdentityService } from './service.js';
export type {
  BackendState,
  DataplaneCertState,
  HeldCertificate,
  IdentityService,
  IdentityServiceOptions,
  IdentityStats,
} from './service.js';
export { attachDataplaneServer } from './server.js';
export type { DataplaneServer, DataplaneServerOptions } from './server.js';
export { authorizeRegistration } from './authorize.js';
export type { Authorization, DataplaneTokenClaims, TokenCheck, VerifyDataplaneToken } from './authorize.js';
export { createRateLimiter } from './rate-limit.js';
export type { RateLimiter, RateLimitOptions } from './rate-limit.js';
export { backoffMs, renewDelayMs, retryDelayMs } from './timing.js';
export type { BackoffOptions } from './timing.js';
export type { OpenBackend } from './mesh-ca-cache.js';
export type { CaClientState } from '@meshca/ca';
export type { IssuanceFailureReason, IssuanceObserver, IssuanceTarget } from './observer.js';
export * from '@meshca/dp-protocol';
