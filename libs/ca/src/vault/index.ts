import type { BackendContext, BackendEnv, CaPlugin } from '../backend.js';
import { checkByTestCertificate } from '../test-certificate.js';
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
 * the backend while Vault is down and issue once it is back. Returns the vault-specific view
 * (token state, load) that tests and benchmarks read.
 */
export async function openVaultBackend(
  ctx: BackendContext,
  env?: Partial<BackendEnv>,
  options: VaultBackendOptions = {},
): Promise<VaultCaBackend> {
  const settings = await resolveVaultSettings(ctx);
  const log = options.log ?? env?.log;
  return createVaultCa(ctx, settings, { ...options, ...(log ? { log } : {}) });
}

export const plugin: CaPlugin = {
  open: (ctx, env) => openVaultBackend(ctx, env),
  check: (ctx, field, opts) => checkByTestCertificate(ctx, field, opts, plugin),
};
