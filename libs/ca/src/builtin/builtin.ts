import type { BuiltinConf, MtlsBackend } from '@meshca/api';
import { parseDuration } from '@meshca/api';
import { generateCaAsync } from '@meshca/pki';
import type { BackendContext, CaBackend } from '../backend.js';
import type { ResourceGetter } from '../datasource.js';
import { createLocalBackend } from './local-backend.js';
import type { CaMaterialPem, LocalBackendOptions } from './local-backend.js';

const DEFAULT_CA_EXPIRATION = '10y';

/** The Secret names Kuma uses for a builtin backend's CA, which global writes and zones read. */
export function builtinSecretNames(mesh: string, backendName: string): { cert: string; key: string } {
  return { cert: `${mesh}.ca-builtin-cert-${backendName}`, key: `${mesh}.ca-builtin-key-${backendName}` };
}

/**
 * A new root for a builtin backend: RSA when `conf.caCert.RSAbits` is set, ECDSA P-256 otherwise;
 * valid for `conf.caCert.expiration` (default 10y). Generated once, on global.
 */
export async function generateBuiltinCa(mesh: string, backend: MtlsBackend): Promise<CaMaterialPem> {
  const conf = (backend.conf ?? {}) as BuiltinConf;
  const expiration = conf.caCert?.expiration ?? DEFAULT_CA_EXPIRATION;
  let validitySeconds: number;
  try {
    validitySeconds = parseDuration(expiration);
  } catch (err) {
    throw new Error(`builtin backend "${backend.name}": conf.caCert.expiration ${(err as Error).message}`);
  }
  const bits = conf.caCert?.RSAbits;
  const commonName = `meshca ${mesh} ${backend.name}`.slice(0, 64);
  return generateCaAsync({
    commonName,
    keyType: bits !== undefined && bits !== 0 ? { rsaBits: bits } : 'ecdsa-p256',
    validitySeconds,
    uriSans: [`spiffe://${mesh}`],
  });
}

/** Issues from a builtin CA whose material came from its two Secrets. */
export function createBuiltinBackend(ctx: BackendContext, material: CaMaterialPem, options?: LocalBackendOptions): CaBackend {
  return createLocalBackend({ mesh: ctx.mesh, name: ctx.backend.name, type: 'builtin', material }, options);
}

/** The CA of a builtin backend from its Secrets, or undefined while global has not made (or synced) it. */
export async function loadBuiltinCa(get: ResourceGetter, mesh: string, backendName: string): Promise<CaMaterialPem | undefined> {
  const names = builtinSecretNames(mesh, backendName);
  const [cert, key] = await Promise.all([get({ type: 'Secret', mesh, name: names.cert }), get({ type: 'Secret', mesh, name: names.key })]);
  if (!cert || !key) return undefined;
  const decode = (r: typeof cert): string => Buffer.from(String((r.spec as { data?: unknown }).data ?? ''), 'base64').toString('utf8');
  return { certPem: decode(cert), keyPem: decode(key) };
}
