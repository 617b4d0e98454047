import { parseDuration, type VaultConf } from '@meshca/api';
import type { BackendContext } from '../backend.js';
import { CaError } from '../errors.js';

const FIELD = 'conf.fromCp';

export type VaultAuth =
  | { kind: 'token'; token: string }
  | { kind: 'cert' }
  /** A Vault Agent authenticates on our behalf: requests carry no token. */
  | { kind: 'agent' };

/** A backend's `conf.fromCp` with its DataSources read and its defaults applied. */
export interface VaultSettings {
  /** Where requests go: the agent when `agentAddress` is set, else `address`. */
  url: URL;
  /** `address` as configured, for messages. */
  address: string;
  namespace: string | undefined;
  pki: string;
  /** True when `pki` was not set and the `kuma-pki-<mesh>` default applies. */
  pkiDefaulted: boolean;
  role: string;
  /** True when `role` was not set and the `dataplanes` default of the `kuma-pki-<mesh>` layout applies. */
  roleDefaulted: boolean;
  commonName: string | undefined;
  tls: { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean; servername?: string };
  auth: VaultAuth;
  /** dpCert.requestTimeout, else 10 s. */
  issueTimeoutMs: number;
  /** rootChain.requestTimeout, else 10 s. */
  rootsTimeoutMs: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Kong Mesh before `pki` and `role` were configurable (the layout of seed 000) issued from
 * `kuma-pki-<mesh>` with the role its setup guide creates: `vault write kuma-pki-default/roles/dataplanes`.
 */
export const DEFAULT_ROLE = 'dataplanes';

/** Kuma writes `agentAddress: ""` for "not set"; so is every other empty string here. */
const set = (s: string | undefined): string | undefined => (s === undefined || s.trim() === '' ? undefined : s.trim());

function timeoutMs(value: string | undefined, field: string, backend: string): number {
  if (!set(value)) return DEFAULT_TIMEOUT_MS;
  try {
    const seconds = parseDuration(value as string);
    return seconds > 0 ? seconds * 1000 : DEFAULT_TIMEOUT_MS;
  } catch (err) {
    throw new CaError(`vault backend "${backend}": ${field} ${(err as Error).message}`, false);
  }
}

function parseUrl(text: string, field: string, backend: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CaError(
      `vault backend "${backend}": ${FIELD}.${field} "${text}" is not a URL; write it like https://vault.example:8200`,
      false,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CaError(`vault backend "${backend}": ${FIELD}.${field} "${text}" must start with https:// or http://`, false);
  }
  return url;
}

export async function resolveVaultSettings(ctx: BackendContext): Promise<VaultSettings> {
  const name = ctx.backend.name;
  const conf = (ctx.backend.conf as Partial<VaultConf> | undefined)?.fromCp;
  if (!conf || !set(conf.address)) {
    throw new CaError(
      `vault backend "${name}": ${FIELD}.address is not set; give the Vault address, e.g. https://vault.example:8200`,
      false,
    );
  }
  const address = parseUrl(conf.address, 'address', name);
  const agentAddress = set(conf.agentAddress);
  const url = agentAddress ? parseUrl(agentAddress, 'agentAddress', name) : address;
  const read = async (source: Parameters<BackendContext['readDataSource']>[0], field: string) =>
    (await ctx.readDataSource(source, `${FIELD}.${field}`)).toString('utf8');

  const tls: VaultSettings['tls'] = { rejectUnauthorized: conf.tls?.skipVerify !== true };
  if (conf.tls?.caCert) tls.ca = await read(conf.tls.caCert, 'tls.caCert');
  const serverName = set(conf.tls?.serverName);
  if (serverName) tls.servername = serverName;

  let auth: VaultAuth;
  if (agentAddress) {
    auth = { kind: 'agent' };
  } else if (conf.auth?.token) {
    const token = (await read(conf.auth.token, 'auth.token')).trim();
    if (token === '') throw new CaError(`vault backend "${name}": ${FIELD}.auth.token is empty; put the Vault token in it`, false);
    auth = { kind: 'token', token };
  } else if (conf.auth?.tls) {
    if (url.protocol !== 'https:') {
      throw new CaError(
        `vault backend "${name}": ${FIELD}.auth.tls logs in with a client certificate, which needs an https:// address`,
        false,
      );
    }
    tls.key = await read(conf.auth.tls.clientKey, 'auth.tls.clientKey');
    tls.cert = await read(conf.auth.tls.clientCert, 'auth.tls.clientCert');
    auth = { kind: 'cert' };
  } else {
    throw new CaError(
      `vault backend "${name}": ${FIELD}.auth needs token or tls (clientKey and clientCert), or set agentAddress to use a Vault Agent`,
      false,
    );
  }

  const pki = set(conf.pki);
  return {
    url,
    address: agentAddress ? `${agentAddress} (agent for ${conf.address})` : conf.address,
    namespace: set(conf.namespace),
    pki: (pki ?? `kuma-pki-${ctx.mesh}`).replace(/^\/+|\/+$/g, ''),
    pkiDefaulted: pki === undefined,
    role: set(conf.role) ?? DEFAULT_ROLE,
    roleDefaulted: set(conf.role) === undefined,
    commonName: set(conf.commonName),
    tls,
    auth,
    issueTimeoutMs: timeoutMs(ctx.backend.dpCert?.requestTimeout, 'dpCert.requestTimeout', name),
    rootsTimeoutMs: timeoutMs(ctx.backend.rootChain?.requestTimeout, 'rootChain.requestTimeout', name),
  };
}
