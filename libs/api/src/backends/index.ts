// Every CA backend type the API knows, in one registry; a backend's folder in libs/ca holds what a
// control plane does with it, in a registry typed by this one (a missing entry does not compile).
import { acmpca, type AcmpcaConf } from './acmpca.js';
import { builtin, type BuiltinConf } from './builtin.js';
import { certManager, type CertManagerConf } from './cert-manager.js';
import { provided, type ProvidedConf } from './provided.js';
import type { BackendSpec } from './spec.js';
import { vault, type VaultConf } from './vault.js';

export const BACKEND_SPECS = {
  builtin,
  provided,
  vault,
  acmpca,
  'cert-manager': certManager,
} as const satisfies Record<string, BackendSpec>;

export type BackendType = keyof typeof BACKEND_SPECS;
export const BACKEND_TYPES = Object.keys(BACKEND_SPECS) as BackendType[];

/** The conf of each type, for code that works with one. */
export interface BackendConfs {
  builtin: BuiltinConf;
  provided: ProvidedConf;
  vault: VaultConf;
  acmpca: AcmpcaConf;
  'cert-manager': CertManagerConf;
}

export function isBackendType(v: unknown): v is BackendType {
  return typeof v === 'string' && Object.hasOwn(BACKEND_SPECS, v);
}

export type { BackendSpec } from './spec.js';
export type { AcmpcaConf, BuiltinConf, CertManagerConf, ProvidedConf, VaultConf };
export { CA_EXPIRATION_BOUNDS, RSA_BITS } from './builtin.js';
