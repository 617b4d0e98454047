import type { BackendContext, CaBackend } from '../backend.js';
import type { BackendEnv } from '../open.js';
import { createVaultCa, type VaultBackendOptions, type VaultCaBackend } from './backend.js';
import { resolveVaultSettings } from './settings.js';

export { createVaultCa, DEFAULT_MAX_IN_FLIGHT } from './backend.js';
export type { VaultBackendOptions, VaultCaBackend } from './backend.js';
export { resolveVaultSettings } from './settings.js';
export type { VaultSettings, VaultAuth } from './settings.js';
export { createLimiter } from '../limiter.js';
export type { Limiter } from '../limiter.js';

/**
 * Issues through a Vault PKI mount (`POST <pki>/issue/<role>`, or `sign/<role>` for a CSR).
 * Reads the backend's DataSources now; talks to Vault only when first used, so a zone can open
 * the backend while Vault is down and issue once it is back.
 */
export async function createVaultBackend(ctx: BackendContext, env: BackendEnv, options: VaultBackendOptions = {}): Promise<CaBackend> {
  return openVaultBackend(ctx, env, options);
}

/** createVaultBackend with the vault-specific view (token state, load) that tests and benchmarks read. */
export async function openVaultBackend(ctx: BackendContext, env: BackendEnv, options: VaultBackendOptions = {}): Promise<VaultCaBackend> {
  const settings = await resolveVaultSettings(ctx);
  const log = options.log ?? env.log;
  return createVaultCa(ctx, settings, { ...options, ...(log ? { log } : {}) });
}
